package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// ValidationError lists every problem found in one config file.
type ValidationError struct {
	File     string
	Problems []string // each "dotted.path: what is wrong"
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("config %s: %s", e.File, strings.Join(e.Problems, "; "))
}

// problems collects validation findings with their dotted paths.
type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

func (p problems) err(file string) error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{File: file, Problems: p}
}

// decodeStrict decodes one YAML document into v, rejecting unknown keys and
// trailing documents.
func decodeStrict(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("config %s: more than one YAML document", path)
	}
	return nil
}

// resolve makes a path in a config file relative to the file's directory,
// so a config can be moved together with its certs and data.
func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, ":") {
		return p
	}
	return filepath.Join(filepath.Dir(base), p)
}

var errEmpty = errors.New("must be set")
