package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Lookup prefers the environment, then the env file a scripts/ci script
// wrote; a key in neither is not found.
func TestLookup(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("FEDMESH_CACHE", cache)
	if err := os.MkdirAll(filepath.Join(cache, "env"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := "FEDMESH_X_URL=http://127.0.0.1:1\nFEDMESH_X_UI=http://127.0.0.1:2\n"
	if err := os.WriteFile(filepath.Join(cache, "env", "x.env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FEDMESH_X_UI", "http://override")
	for _, tc := range []struct {
		name, file, key, want string
		ok                    bool
	}{
		{name: "from file", file: "x", key: "FEDMESH_X_URL", want: "http://127.0.0.1:1", ok: true},
		{name: "environment wins", file: "x", key: "FEDMESH_X_UI", want: "http://override", ok: true},
		{name: "key not in file", file: "x", key: "FEDMESH_X_NONE"},
		{name: "no file", file: "y", key: "FEDMESH_Y_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Lookup(tc.file, tc.key)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Lookup(%q, %q) = %q, %v; want %q, %v", tc.file, tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// The failure message names the script itself, so it can be run as is.
func TestCIScript(t *testing.T) {
	for file, want := range map[string]string{
		"spire": "scripts/ci/40-spire.sh",
		"nope":  "scripts/ci/*-nope.sh",
	} {
		if got := ciScript(file); got != want {
			t.Errorf("ciScript(%q) = %q, want %q", file, got, want)
		}
	}
}
