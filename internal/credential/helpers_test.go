package credential

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const testIssuer = "https://idp.example.org/realms/fedmesh"

// now is the tests' fixed clock reading.
var now = time.Date(2026, 12, 6, 12, 5, 0, 0, time.UTC)

// clock is a settable clock for tests that let time pass.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestIssuer makes an Ed25519 issuer reading the fixed clock.
func newTestIssuer(t *testing.T) *Issuer {
	t.Helper()
	iss, err := NewIssuer(testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	iss.Now = func() time.Time { return now }
	return iss
}

// signer is a non-Ed25519 key for the ES256 and RS256 cases.
type signer struct {
	alg jwa.SignatureAlgorithm
	key jwk.Key // private, with kid
}

func newSigner(t *testing.T, alg string) signer {
	t.Helper()
	var raw any
	var err error
	switch alg {
	case ES256:
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("no signer for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := jwk.AssignKeyID(k); err != nil {
		t.Fatal(err)
	}
	a, _ := jwa.LookupSignatureAlgorithm(alg)
	return signer{alg: a, key: k}
}

func (s signer) kid() string { kid, _ := s.key.KeyID(); return kid }

func (s signer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, s.kid())
	out, err := jws.Sign(payload, jws.WithKey(s.alg, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// claimsAt are valid claims for alice, issued at iat for ttl.
func claimsAt(iat time.Time, ttl time.Duration) map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "alice", "aud": []string{"fedmesh", "other"},
		"iat": iat.Unix(), "exp": iat.Add(ttl).Unix(), "jti": "j-1", "roles": []string{"analyst"},
	}
}

// jwksOf is the public key set of the given private keys.
func jwksOf(t *testing.T, keys ...jwk.Key) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.PublicKeyOf(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceFile swaps path's content atomically, as a deploy tool (or a
// Kubernetes volume update) does.
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// logBuffer captures a component's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
