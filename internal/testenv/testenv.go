// Package testenv finds the test servers that scripts/ci/*.sh start
// (PostgreSQL, MariaDB, Vault, ...) for tests in any package.
//
// A test asks for a variable (FEDMESH_PG_DSN, VAULT_ADDR, ...); it comes
// from the environment or from $FEDMESH_CACHE/env/<name>.env. When it is
// missing the test is skipped with the script to run — except under
// CI=true, where a missing server fails the test.
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

// Server returns key (see Lookup), or skips the test — fails it under
// CI=true — naming the script that provides it.
func Server(t testing.TB, file, key string) string {
	t.Helper()
	if v, ok := Lookup(file, key); ok {
		return v
	}
	msg := key + " is not set and " + filepath.Join(CacheDir(), "env", file+".env") +
		" does not define it; run scripts/ci/*-" + file + ".sh"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("skipping: " + msg)
	return ""
}
