package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/policy"
)

func TestSignedBundles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	good, other := newTestKey(t), newTestKey(t)
	src := writeBundleDir(t, "signed-7")

	signedDir := writeBundleDir(t, "signed-dir-7")
	signDir(t, signedDir, good)
	tamperedDir := writeBundleDir(t, "signed-dir-7")
	signDir(t, tamperedDir, good)
	if err := os.WriteFile(filepath.Join(tamperedDir, "data.json"), []byte(`{"fedmesh": {"min_group_size": 1, "denied_columns": []}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tarball := func(name string, raw []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	signed := tarball("signed.tar.gz", signedTarball(t, src, &good, false))
	unsigned := tarball("unsigned.tar.gz", signedTarball(t, src, nil, false))
	tampered := tarball("tampered.tar.gz", signedTarball(t, src, &good, true))

	required, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: good.public}}, true)
	if err != nil {
		t.Fatal(err)
	}
	optional, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: good.public}}, false)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: other.public}}, true)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		path     string
		opts     policy.LoadOptions
		wantRev  string
		wantErr  error  // nil: loads
		wantText string // in the error
	}{
		{name: "signed tarball, signature required", path: signed, opts: policy.LoadOptions{Verification: required}, wantRev: "signed-7"},
		{name: "signed directory, signature required", path: signedDir, opts: policy.LoadOptions{Verification: required}, wantRev: "signed-dir-7"},
		{name: "unsigned tarball, signature optional", path: unsigned, opts: policy.LoadOptions{Verification: optional}, wantRev: "signed-7"},
		{name: "unsigned tarball, no verification configured", path: unsigned, wantRev: "signed-7"},
		{name: "unsigned tarball refused", path: unsigned, opts: policy.LoadOptions{Verification: required}, wantErr: policy.ErrVerification, wantText: "missing .signatures.json"},
		{name: "unsigned directory refused", path: src, opts: policy.LoadOptions{Verification: required}, wantErr: policy.ErrVerification, wantText: "missing .signatures.json"},
		{name: "tampered tarball refused", path: tampered, opts: policy.LoadOptions{Verification: required}, wantErr: policy.ErrVerification, wantText: "digest mismatch"},
		{name: "tampered tarball refused even if signatures are optional", path: tampered, opts: policy.LoadOptions{Verification: optional}, wantErr: policy.ErrVerification, wantText: "digest mismatch"},
		{name: "tampered directory refused", path: tamperedDir, opts: policy.LoadOptions{Verification: required}, wantErr: policy.ErrVerification, wantText: "data.json: digest mismatch"},
		{name: "signed by another key refused", path: signed, opts: policy.LoadOptions{Verification: wrongKey}, wantErr: policy.ErrVerification, wantText: "verification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := policy.LoadPath(ctx, tt.path, tt.opts, nil)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("LoadPath: %v", err)
				}
				if p.Revision() != tt.wantRev {
					t.Errorf("Revision() = %q, want %q", p.Revision(), tt.wantRev)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("LoadPath error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("LoadPath error = %q, want it to name %q and contain %q", err, tt.path, tt.wantText)
			}
		})
	}
}

func TestNewVerificationConfigRejectsBadKeys(t *testing.T) {
	t.Parallel()
	for _, keys := range [][]policy.VerificationKey{
		nil,
		{{ID: "", Key: "k"}},
		{{ID: "a", Key: ""}},
		{{ID: "a", Key: "k"}, {ID: "a", Key: "k"}},
	} {
		if _, err := policy.NewVerificationConfig(keys, true); err == nil {
			t.Errorf("NewVerificationConfig(%v) succeeded, want an error", keys)
		}
	}
}
