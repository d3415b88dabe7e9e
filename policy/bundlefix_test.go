package policy_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// testKey is an RSA key pair in PEM, as `openssl genrsa` would write it.
type testKey struct {
	private, public string
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{
		private: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
	}
}

// writeBundleDir writes a copy of the default bundle (without its tests) with
// the given revision into a new directory and returns it.
func writeBundleDir(t testing.TB, revision string) string {
	t.Helper()
	dir := t.TempDir()
	writeBundleFiles(t, dir, revision)
	return dir
}

func writeBundleFiles(t testing.TB, dir, revision string) {
	t.Helper()
	for _, name := range []string{"policy.rego", "dp.rego", "data.json"} {
		raw, err := os.ReadFile(filepath.Join("bundles", "default", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), raw)
	}
	m, _ := json.Marshal(map[string]any{"revision": revision, "roots": []string{"fedmesh"}})
	writeFile(t, filepath.Join(dir, ".manifest"), m)
}

// writeFile replaces path atomically (a rename), as a deploy tool would.
func writeFile(t testing.TB, path string, raw []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// readBundle reads dir without verification.
func readBundle(t testing.TB, dir string) bundle.Bundle {
	t.Helper()
	b, err := bundle.NewCustomReader(bundle.NewDirectoryLoader(dir)).WithSkipBundleVerification(true).Read()
	if err != nil {
		t.Fatalf("read bundle %s: %v", dir, err)
	}
	return b
}

// signedTarball builds a .tar.gz of the bundle in dir, signed with key under
// key id "default" (what `opa build --signing-key` does), optionally altering
// policy.rego after signing.
func signedTarball(t testing.TB, dir string, key *testKey, tamper bool) []byte {
	t.Helper()
	b := readBundle(t, dir)
	if key != nil {
		if err := b.GenerateSignature(bundle.NewSigningConfig(key.private, "RS256", ""), "default", false); err != nil {
			t.Fatalf("sign bundle: %v", err)
		}
	}
	if tamper {
		for i := range b.Modules {
			b.Modules[i].Raw = append(b.Modules[i].Raw, []byte("\nextra_rule := true\n")...)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatalf("write bundle tarball: %v", err)
	}
	return buf.Bytes()
}

// signDir writes .signatures.json into dir, as `opa sign --bundle dir` does.
func signDir(t testing.TB, dir string, key testKey) {
	t.Helper()
	b := readBundle(t, dir)
	if err := b.GenerateSignature(bundle.NewSigningConfig(key.private, "RS256", ""), "default", true); err != nil {
		t.Fatalf("sign bundle: %v", err)
	}
	raw, err := json.Marshal(b.Signatures)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".signatures.json"), raw)
}
