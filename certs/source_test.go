package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

func TestLoadFilesErrorsNameFile(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	cert, key := Paths(d.dir, CoordinatorName)
	missing := filepath.Join(d.dir, "nope.pem")
	empty := filepath.Join(d.dir, "empty.pem")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(d.dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		cert, key, bndl string
		want            []string
	}{
		{name: "missing cert", cert: missing, key: key, bndl: d.bundlePath(), want: []string{"certificate file", missing}},
		{name: "missing key", cert: cert, key: missing, bndl: d.bundlePath(), want: []string{"key file", missing}},
		{name: "missing bundle", cert: cert, key: key, bndl: missing, want: []string{"trust bundle " + missing}},
		{name: "empty bundle", cert: cert, key: key, bndl: empty, want: []string{"trust bundle " + empty, "no certificates"}},
		{name: "garbage cert", cert: garbage, key: key, bndl: d.bundlePath(), want: []string{"cert " + garbage, "certificate"}},
		{name: "key of another SVID", cert: cert, key: filepath.Join(d.dir, CAKeyFile), bndl: d.bundlePath(), want: []string{"key " + filepath.Join(d.dir, CAKeyFile)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := LoadFiles(tt.cert, tt.key, tt.bndl)
			if err == nil {
				t.Fatalf("LoadFiles = %v, want error", src)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFileSourceTrustsOnlyItsDomain(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	src := d.source(t, CoordinatorName)
	if src.ID() != CoordinatorID(d.td) {
		t.Errorf("ID() = %s, want %s", src.ID(), CoordinatorID(d.td))
	}
	b, err := src.GetX509BundleForTrustDomain(d.td)
	if err != nil || !b.HasX509Authority(d.ca.Certificate()) {
		t.Errorf("own bundle = %v, %v; want the CA certificate", b, err)
	}
	_, err = src.GetX509BundleForTrustDomain(spiffeid.RequireTrustDomainFromString("evil.org"))
	if err == nil || !strings.Contains(err.Error(), `"evil.org"`) {
		t.Errorf("foreign bundle err = %v, want error naming evil.org", err)
	}
}
