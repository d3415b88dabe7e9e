package enginebridge

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serverEnv returns the value of key (e.g. FEDMESH_PG_DSN) from the
// environment or, failing that, from $FEDMESH_CACHE/env/<file>.env as
// written by scripts/ci/*.sh. When it is missing the test is skipped with
// the command that provides it — except under CI=true, where it fails.
func serverEnv(t testing.TB, file, key string) string {
	t.Helper()
	if v := os.Getenv(key); v != "" {
		return v
	}
	cache := os.Getenv("FEDMESH_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "fedmesh")
	}
	path := filepath.Join(cache, "env", file+".env")
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && k == key {
				return v
			}
		}
	}
	msg := key + " is not set and " + path + " does not define it; run scripts/ci/*" + file + ".sh"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("skipping: " + msg)
	return ""
}
