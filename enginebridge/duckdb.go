package enginebridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// DuckDB is an Engine over an in-memory DuckDB database whose only tables
// are read-only views over the configured files.
type DuckDB struct {
	db       *sql.DB
	tables   []string
	rowsOpts RowsOptions
	logger   *slog.Logger
}

var _ Engine = (*DuckDB)(nil)

// OpenDuckDB opens an in-memory DuckDB and exposes each configured table as a
// view named by its Name. After setup it disables DuckDB's access to any
// file other than the configured ones and locks the configuration, so SQL
// run later can neither read other files nor undo that.
//
// Configuration problems are reported together as *FieldError values
// naming the field ("tables[1].path: ...").
func OpenDuckDB(ctx context.Context, cfg DuckDBConfig, logger *slog.Logger) (*DuckDB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tables, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("open duckdb engine: invalid config: %w", err)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb engine: %w", err)
	}
	db := sql.OpenDB(connector)
	if err := setUpDuckDB(ctx, db, cfg, tables); err != nil {
		return nil, errors.Join(fmt.Errorf("open duckdb engine: %w", err), db.Close())
	}
	d := &DuckDB{
		db:     db,
		logger: logger.With(logkey.Component, "enginebridge", logkey.Engine, "duckdb"),
		rowsOpts: RowsOptions{
			BatchSize: cfg.BatchSize,
			Allocator: cfg.Allocator,
		},
	}
	for _, t := range tables {
		d.tables = append(d.tables, t.Name)
	}
	d.logger.InfoContext(ctx, "duckdb engine ready", cfg.logAttrs(tables)...)
	return d, nil
}

// setUpDuckDB runs the setup statements. Every setting used is global to the
// database, and views and attachments live in the database catalog, so it
// does not matter which pooled connection runs each statement.
func setUpDuckDB(ctx context.Context, db *sql.DB, cfg DuckDBConfig, tables []TableSource) error {
	exec := func(field, stmt string) error {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			if field == "" {
				return fmt.Errorf("set up duckdb: %w", err)
			}
			return &FieldError{Field: field, Err: err}
		}
		return nil
	}
	if cfg.Threads > 0 {
		if err := exec("threads", fmt.Sprintf("SET GLOBAL threads = %d", cfg.Threads)); err != nil {
			return err
		}
	}
	if cfg.MemoryLimit != "" {
		if err := exec("memory_limit", "SET GLOBAL memory_limit = "+quoteString(cfg.MemoryLimit)); err != nil {
			return err
		}
	}
	attached := map[string]string{} // database file path → catalog alias
	var filePaths []string
	for i, t := range tables {
		var from, field string
		switch t.Format {
		case FormatParquet:
			from, field = "read_parquet("+quoteString(t.Path)+")", fmt.Sprintf("tables[%d].path", i)
			filePaths = append(filePaths, t.Path)
		case FormatCSV:
			from, field = "read_csv_auto("+quoteString(t.Path)+")", fmt.Sprintf("tables[%d].path", i)
			filePaths = append(filePaths, t.Path)
		case FormatDuckDB:
			alias, ok := attached[t.Path]
			if !ok {
				// One attachment per file: DuckDB refuses to attach a file twice.
				alias = fmt.Sprintf("fedmesh_src_%d", len(attached))
				stmt := "ATTACH " + quoteString(t.Path) + " AS " + quoteIdent(alias) + " (READ_ONLY)"
				if err := exec(fmt.Sprintf("tables[%d].path", i), stmt); err != nil {
					return err
				}
				attached[t.Path] = alias
			}
			from, field = quoteIdent(alias)+"."+quoteIdent(t.Table), fmt.Sprintf("tables[%d].table", i)
		}
		// CREATE VIEW binds its query, so an unreadable file or a missing
		// table fails here, at startup, not on the first analyst query.
		if err := exec(field, "CREATE VIEW "+quoteIdent(t.Name)+" AS SELECT * FROM "+from); err != nil {
			return err
		}
	}
	// Views re-read their files on every query, so the files stay allowed
	// while everything else on the file system is closed off. Attached
	// databases keep their open handle and need no entry.
	if len(filePaths) > 0 {
		quoted := make([]string, len(filePaths))
		for i, p := range filePaths {
			quoted[i] = quoteString(p)
		}
		if err := exec("", "SET GLOBAL allowed_paths = ["+strings.Join(quoted, ", ")+"]"); err != nil {
			return err
		}
	}
	if err := exec("", "SET GLOBAL enable_external_access = false"); err != nil {
		return err
	}
	return exec("", "SET GLOBAL lock_configuration = true")
}

// Dialect returns "duckdb".
func (d *DuckDB) Dialect() string { return "duckdb" }

// Tables returns the logical table names, in configuration order.
func (d *DuckDB) Tables() []string {
	return append([]string(nil), d.tables...)
}

// Query runs query with positional args ($1, $2, ...) and returns a reader
// that converts the result to Arrow batches of at most BatchSize rows as it
// is read. DuckDB computes the result when Query is called (cancelling ctx
// interrupts that); the reader then pulls rows from it lazily.
func (d *DuckDB) Query(ctx context.Context, query string, args []any) (array.RecordReader, error) {
	d.logger.DebugContext(ctx, "duckdb query", slog.String(logkey.SQL, query), slog.Int(logkey.Args, len(args)))
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("duckdb query: %w", err))
	}
	r, err := NewRowsReader(ctx, rows, duckDBTypes, d.rowsOpts)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("duckdb query: %w", err))
	}
	return r, nil
}

// Close closes the database. Open readers fail afterwards.
func (d *DuckDB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close duckdb engine: %w", err)
	}
	return nil
}
