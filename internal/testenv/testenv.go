// Package testenv finds the test servers and tools that scripts/ci/*.sh
// install and start (PostgreSQL, MariaDB, Vault, SPIRE, Spark, Flink, opa,
// chromium) for tests in any package.
//
// A test asks for a variable (FEDMESH_PG_DSN, VAULT_ADDR, ...); it comes
// from the environment or from $FEDMESH_CACHE/env/<name>.env. When it is
// missing, the test is skipped under -short (`make test-short`, the quick
// loop without servers) and fails otherwise, naming the script to run:
// `make test` runs every script first, so a missing server there is a
// broken install, never a reason to pass quietly.
//
// It must not start or install anything itself.
package testenv

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CacheDir is ${FEDMESH_CACHE:-$HOME/.cache/fedmesh}.
func CacheDir() string {
	if c := os.Getenv("FEDMESH_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "fedmesh")
}

// Lookup returns key from the environment or from the env file written by
// scripts/ci/*-<file>.sh, and whether it was found.
func Lookup(file, key string) (string, bool) {
	if v := os.Getenv(key); v != "" {
		return v, true
	}
	f, err := os.Open(filepath.Join(CacheDir(), "env", file+".env"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Server returns key (see Lookup). When it is missing the test is skipped
// under -short and fails otherwise (see Missing), naming the script that
// provides it.
func Server(t testing.TB, file, key string) string {
	t.Helper()
	if v, ok := Lookup(file, key); ok {
		return v
	}
	Missing(t, file, key+" is not set and "+filepath.Join(CacheDir(), "env", file+".env")+" does not define it")
	return ""
}

// Missing ends a test whose server or tool is not there: a skip under
// -short, a failure otherwise. what says what is missing; file names the
// scripts/ci/*-<file>.sh that installs it.
func Missing(t testing.TB, file, what string) {
	t.Helper()
	script := ciScript(file)
	if testing.Short() {
		t.Skipf("skipping in -short mode: %s (%s provides it; make test runs it)", what, script)
	}
	t.Fatalf("%s: run %s, or `make test-deps` for all of them (make test runs them first); "+
		"use -short (make test-short) to skip tests that need servers", what, script)
}

// ciScript names scripts/ci/NN-<file>.sh, found from the module root above
// the test's directory, or the pattern when it cannot be found.
func ciScript(file string) string {
	pattern := filepath.Join("scripts", "ci", "*-"+file+".sh")
	dir, err := os.Getwd()
	for err == nil {
		if _, statErr := os.Stat(filepath.Join(dir, "go.mod")); statErr == nil {
			if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) == 1 {
				return filepath.Join("scripts", "ci", filepath.Base(m[0]))
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return pattern
}
