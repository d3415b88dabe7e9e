package enginebridge

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// DuckDBConfig configures OpenDuckDB. It is operator configuration, never
// analyst input; even so every name and path is quoted when put into SQL.
type DuckDBConfig struct {
	Tables      []TableSource
	Threads     int              // 0 = DuckDB default
	MemoryLimit string           // "" = default, e.g. "1GB"
	BatchSize   int              // rows per Arrow batch, 0 → 65536
	Allocator   memory.Allocator // nil → memory.DefaultAllocator
}

// FieldError is a configuration problem at a dotted field path such as
// "tables[1].path". Callers embedding DuckDBConfig in a larger config can
// prefix Field with their own path.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the underlying problem.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// validate reports every problem in cfg at once (errors.Join of *FieldError)
// and returns the tables with absolute paths and defaulted Table names.
func (cfg *DuckDBConfig) validate() ([]TableSource, error) {
	var errs []error
	if cfg.Threads < 0 {
		errs = append(errs, fieldErr("threads", "must be >= 0, got %d", cfg.Threads))
	}
	if cfg.BatchSize < 0 {
		errs = append(errs, fieldErr("batch_size", "must be >= 0, got %d", cfg.BatchSize))
	}
	if strings.ContainsAny(cfg.MemoryLimit, "\x00\n") {
		errs = append(errs, fieldErr("memory_limit", "must be a size such as \"1GB\""))
	}
	seen := map[string]int{}
	tables := make([]TableSource, len(cfg.Tables))
	for i, t := range cfg.Tables {
		at := func(f string) string { return fmt.Sprintf("tables[%d].%s", i, f) }
		switch {
		case t.Name == "":
			errs = append(errs, fieldErr(at("name"), "must be set"))
		case strings.ContainsRune(t.Name, 0):
			errs = append(errs, fieldErr(at("name"), "must not contain NUL"))
		default:
			// DuckDB identifiers are case-insensitive, so are duplicates.
			key := strings.ToLower(t.Name)
			if j, dup := seen[key]; dup {
				errs = append(errs, fieldErr(at("name"), "%q duplicates tables[%d].name", t.Name, j))
			} else {
				seen[key] = i
			}
		}
		switch t.Format {
		case FormatParquet, FormatCSV:
			if t.Table != "" {
				errs = append(errs, fieldErr(at("table"), "only valid with format %q", FormatDuckDB))
			}
		case FormatDuckDB:
			if t.Table == "" {
				t.Table = t.Name
			}
		case "":
			errs = append(errs, fieldErr(at("format"), "must be set to %q, %q or %q", FormatParquet, FormatCSV, FormatDuckDB))
		default:
			errs = append(errs, fieldErr(at("format"), "%q is not one of %q, %q, %q", t.Format, FormatParquet, FormatCSV, FormatDuckDB))
		}
		if err := checkPath(t.Path); err != nil {
			errs = append(errs, &FieldError{Field: at("path"), Err: err})
		} else if abs, err := filepath.Abs(t.Path); err != nil {
			errs = append(errs, fieldErr(at("path"), "make %q absolute: %w", t.Path, err))
		} else {
			t.Path = abs
		}
		tables[i] = t
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tables, nil
}

func checkPath(p string) error {
	if p == "" {
		return errors.New("must be set")
	}
	if strings.ContainsRune(p, 0) {
		return errors.New("must not contain NUL")
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file %q does not exist", p)
	}
	if err != nil {
		return err // *fs.PathError names the path
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", p)
	}
	return nil
}

// logAttrs summarises the config for the startup log line.
func (cfg *DuckDBConfig) logAttrs(tables []TableSource) []any {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	return []any{
		slog.Any(logkey.Tables, names),
		slog.Int(logkey.Threads, cfg.Threads),
		slog.String(logkey.MemoryLimit, cfg.MemoryLimit),
		slog.Int(logkey.BatchSize, cfg.BatchSize),
	}
}
