package credential

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mint returns a valid token from iss, failing the test otherwise.
func mint(t *testing.T, iss *Issuer) string {
	t.Helper()
	tok, err := iss.Mint("alice", []string{"analyst"}, "fedmesh", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expect verifies tok and checks it is accepted (wantErr "") or refused
// with an error containing wantErr.
func expect(t *testing.T, v *Verifier, step, tok, wantErr string) {
	t.Helper()
	got, err := v.Verify(context.Background(), tok)
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s: refused: %v", step, err)
	case wantErr == "" && got.ID != "alice":
		t.Errorf("%s: analyst %q, want alice", step, got.ID)
	case wantErr != "" && err == nil:
		t.Errorf("%s: accepted, want %q", step, wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Errorf("%s: error %q, want %q", step, err, wantErr)
	}
}

func TestJWKSFileRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newTestIssuer(t), newTestIssuer(t)
	path := filepath.Join(t.TempDir(), "issuer.jwks")
	if err := os.WriteFile(path, jwksOf(t, oldKey.key), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	v, err := New(Config{Issuer: testIssuer, Audience: "fedmesh", JWKSFile: path, Now: func() time.Time { return now }, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, newTok := mint(t, oldKey), mint(t, newKey)
	expect(t, v, "before rotation, old key", oldTok, "")
	expect(t, v, "before rotation, new key", newTok, `signed by unknown key id "`+newKey.KeyID()+`"`)

	replaceFile(t, path, jwksOf(t, oldKey.key, newKey.key))
	expect(t, v, "both published, new key", newTok, "")
	expect(t, v, "both published, old key", oldTok, "")

	replaceFile(t, path, jwksOf(t, newKey.key))
	expect(t, v, "old removed, old key", oldTok, `signed by unknown key id "`+oldKey.KeyID()+`"`)
	expect(t, v, "old removed, new key", newTok, "")

	// A broken file keeps the last good keys, and says so in the log.
	replaceFile(t, path, []byte(`{"keys": [`))
	expect(t, v, "after a broken file, new key", newTok, "")
	if !strings.Contains(logs.String(), "keeping the last good keys") {
		t.Errorf("a broken jwks file was not logged; logs:\n%s", logs.String())
	}
	// A file rewritten in place (same inode) is noticed too.
	if err := os.WriteFile(path, jwksOf(t, oldKey.key), 0o644); err != nil {
		t.Fatal(err)
	}
	expect(t, v, "rewritten in place, old key", oldTok, "")
	expect(t, v, "rewritten in place, new key", newTok, "unknown key id")

	// The file vanishing keeps the keys too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	expect(t, v, "file removed, old key", oldTok, "")
	if strings.Contains(logs.String(), oldTok) || strings.Contains(logs.String(), newTok) {
		t.Error("a token appears in the log")
	}
}

// TestJWKSFileConcurrentRotation runs verifications while the file
// changes; with -race it checks the reload is safe.
func TestJWKSFileConcurrentRotation(t *testing.T) {
	t.Parallel()
	a, b := newTestIssuer(t), newTestIssuer(t)
	path := filepath.Join(t.TempDir(), "issuer.jwks")
	if err := os.WriteFile(path, jwksOf(t, a.key, b.key), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := New(Config{Issuer: testIssuer, Audience: "fedmesh", JWKSFile: path, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, a)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Errorf("verify during rotation: %v", err)
					return
				}
			}
		})
	}
	for i := range 20 {
		keys := jwksOf(t, a.key, b.key)
		if i%2 == 1 {
			keys = jwksOf(t, b.key, a.key)
		}
		replaceFile(t, path, keys)
	}
	wg.Wait()
}

// jwksServer serves a key set that the test can change, counting fetches.
type jwksServer struct {
	*httptest.Server
	body    atomic.Value // []byte
	fetches atomic.Int32
	down    atomic.Bool
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.body.Store(body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want loopback", s.URL)
	}
	return s
}

func TestJWKSURLRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newTestIssuer(t), newTestIssuer(t)
	srv := newJWKSServer(t, jwksOf(t, oldKey.key))
	clk := &clock{t: now}
	oldKey.Now, newKey.Now = clk.Now, clk.Now
	var logs logBuffer
	v, err := New(Config{Issuer: testIssuer, Audience: "fedmesh", JWKSURL: srv.URL + "/jwks",
		MinRefetch: 30 * time.Second, MaxKeyAge: 10 * time.Minute, Now: clk.Now, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	fetches := func(step string, want int32) {
		t.Helper()
		if got := srv.fetches.Load(); got != want {
			t.Errorf("%s: %d fetches, want %d", step, got, want)
		}
	}
	oldTok := mint(t, oldKey)
	expect(t, v, "first use fetches", oldTok, "")
	fetches("first use", 1)
	expect(t, v, "cached", oldTok, "")
	fetches("cached", 1)

	// The issuer rotates. A token with the new kid within MinRefetch of
	// the last fetch is refused without a fetch, as is a stream of made-up
	// kids.
	srv.body.Store(jwksOf(t, newKey.key))
	newTok := mint(t, newKey)
	expect(t, v, "new kid too soon", newTok, "unknown key id")
	for range 5 {
		expect(t, v, "made-up kid", mint(t, newTestIssuer(t)), "unknown key id")
	}
	fetches("within MinRefetch", 1)

	clk.Advance(31 * time.Second)
	expect(t, v, "new kid after MinRefetch", mint(t, newKey), "")
	fetches("after MinRefetch", 2)
	expect(t, v, "old kid after rotation", mint(t, oldKey), `signed by unknown key id "`+oldKey.KeyID()+`"`)
	fetches("old kid right after a fetch", 2)

	// The issuer is down: the cached keys keep working, and after
	// MaxKeyAge a failed refetch is logged, not fatal.
	srv.down.Store(true)
	clk.Advance(11 * time.Minute)
	expect(t, v, "issuer down, stale cache", mint(t, newKey), "")
	fetches("stale cache", 3)
	if !strings.Contains(logs.String(), "refetch failed; keeping the last good keys") {
		t.Errorf("failed refetch not logged; logs:\n%s", logs.String())
	}
}

func TestJWKSURLUnavailable(t *testing.T) {
	t.Parallel()
	iss := newTestIssuer(t)
	srv := newJWKSServer(t, jwksOf(t, iss.key))
	srv.down.Store(true)
	clk := &clock{t: now}
	v, err := New(Config{Issuer: testIssuer, Audience: "fedmesh", JWKSURL: srv.URL, MinRefetch: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, iss)
	_, err = v.Verify(context.Background(), tok)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify with the issuer down: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("error %q does not give the HTTP status", err)
	}
	_, err = v.Verify(context.Background(), tok)
	if !errors.Is(err, ErrUnavailable) || srv.fetches.Load() != 1 {
		t.Errorf("second Verify within MinRefetch: %v after %d fetches, want ErrUnavailable after 1", err, srv.fetches.Load())
	}
	srv.down.Store(false)
	clk.Advance(time.Minute)
	expect(t, v, "issuer back", tok, "")
}
