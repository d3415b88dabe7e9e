package policy_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmesh/fedmesh/policy"
)

// hammer evaluates against h from several goroutines until stop is closed,
// failing the test if any evaluation sees no policy or an error, and
// records every revision seen.
func hammer(t *testing.T, h *policy.Holder, stop <-chan struct{}) (wait func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	in := policy.NewInput(salesPlan())
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := h.Evaluate(context.Background(), in)
				if err != nil || !d.Allow || d.BundleRevision == "" {
					t.Errorf("evaluation during reload: allow=%v revision=%q err=%v", d.Allow, d.BundleRevision, err)
					return
				}
				mu.Lock()
				seen[d.BundleRevision]++
				mu.Unlock()
			}
		}()
	}
	return func() map[string]int { wg.Wait(); return seen }
}

func waitRevision(t *testing.T, h *policy.Holder, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if h.Revision() == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("revision %q not active after %s (current %q)", want, within, h.Revision())
	return 0
}

func TestDirectoryHotReloadUnderLoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger, logs := syncLogger()
	dir := writeBundleDir(t, "r1")
	src := &policy.PathSource{Path: dir, Logger: logger}
	p, err := src.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := policy.NewHolder(p, logger)
	done := make(chan error, 1)
	go func() { done <- policy.Watch(ctx, h, src, 100*time.Millisecond, logger) }()

	stop := make(chan struct{})
	wait := hammer(t, h, stop)
	time.Sleep(200 * time.Millisecond)
	writeBundleFiles(t, dir, "r2")
	took := waitRevision(t, h, "r2", 5*time.Second)
	t.Logf("reload picked up after %s", took)

	// A broken bundle is refused; the last good one stays active.
	writeFile(t, filepath.Join(dir, "policy.rego"), []byte("package fedmesh\n\ndecision := {"))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "policy bundle refused; keeping the last good bundle (revision r2)") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	seen := wait()
	if h.Revision() != "r2" {
		t.Errorf("after a broken bundle, revision = %q, want r2 kept", h.Revision())
	}
	if seen["r1"] == 0 || seen["r2"] == 0 || len(seen) != 2 {
		t.Errorf("revisions seen by concurrent queries = %v, want both r1 and r2 only", seen)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
}

// bundleServer serves one tarball with an ETag, answering 304 to a matching
// If-None-Match, like an OPA bundle server.
type bundleServer struct {
	mu      sync.Mutex
	body    []byte
	etag    string
	gets    atomic.Int64
	notMods atomic.Int64
}

func (s *bundleServer) set(body []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.etag = body, etag
}

func (s *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, etag := s.body, s.etag
	s.mu.Unlock()
	s.gets.Add(1)
	if r.Header.Get("If-None-Match") == etag {
		s.notMods.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	_, _ = w.Write(body)
}

func TestHTTPBundleServerPolling(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger, logs := syncLogger()
	key := newTestKey(t)
	vc, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: key.public}}, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeBundleDir(t, "h1")
	srv := &bundleServer{}
	srv.set(signedTarball(t, dir, nil, false), `"unsigned"`)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// No verified bundle yet: the holder starts empty and denies.
	h := policy.NewHolder(nil, logger)
	src := &policy.HTTPSource{URL: ts.URL + "/bundles/site-a.tar.gz", Options: policy.LoadOptions{Verification: vc}, Logger: logger}
	if policy.Reload(ctx, h, src, logger) {
		t.Fatal("an unsigned bundle was activated")
	}
	if !strings.Contains(logs.String(), "policy bundle refused: signature verification failed; no bundle is loaded, so every export is refused") {
		t.Errorf("refusal not logged clearly; logs:\n%s", logs)
	}
	d, err := h.Evaluate(ctx, policy.NewInput(salesPlan()))
	if !errors.Is(err, policy.ErrNoPolicy) || d.Allow {
		t.Fatalf("with no bundle: allow=%v err=%v, want a deny with ErrNoPolicy", d.Allow, err)
	}

	srv.set(signedTarball(t, dir, &key, false), `"h1"`)
	go func() { _ = policy.Watch(ctx, h, src, 50*time.Millisecond, logger) }()
	waitRevision(t, h, "h1", 5*time.Second)

	stop := make(chan struct{})
	wait := hammer(t, h, stop)
	writeBundleFiles(t, dir, "h2")
	srv.set(signedTarball(t, dir, &key, true), `"h2-tampered"`)
	time.Sleep(300 * time.Millisecond)
	if h.Revision() != "h1" {
		t.Fatalf("a tampered bundle replaced the good one: revision %q", h.Revision())
	}
	srv.set(signedTarball(t, dir, &key, false), `"h2"`)
	waitRevision(t, h, "h2", 5*time.Second)
	time.Sleep(150 * time.Millisecond)
	close(stop)
	wait()
	if srv.notMods.Load() == 0 {
		t.Errorf("server never answered 304 in %d GETs: the poller does not send If-None-Match", srv.gets.Load())
	}
}

func TestPathSourceMissing(t *testing.T) {
	t.Parallel()
	src := &policy.PathSource{Path: filepath.Join(t.TempDir(), "nope")}
	if _, err := src.Poll(context.Background()); err == nil || !os.IsNotExist(errors.Unwrap(err)) && !strings.Contains(err.Error(), "nope") {
		t.Errorf("Poll of a missing bundle: %v, want an error naming it", err)
	}
}

// syncBuf is a log sink that can be read while the logger writes to it.
type syncBuf struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func syncLogger() (*slog.Logger, *syncBuf) {
	b := &syncBuf{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
