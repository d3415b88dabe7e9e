package agent

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/policy"
)

func writeRevision(t *testing.T, dir, revision string) {
	t.Helper()
	files := map[string]string{
		"policy.rego": "package fedmesh\n\ndecision := {\"allow\": true, \"reasons\": [], \"obligations\": {\"min_group_size\": 1}}\n",
		".manifest":   `{"revision": "` + revision + `", "roots": ["fedmesh"]}`,
		"data.json":   `{}`,
	}
	for name, body := range files {
		tmp := filepath.Join(dir, name+".tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHotReloadUnderConcurrentQueries swaps the bundle on disk while
// queries run through the whole site pipeline: the new revision is picked
// up within seconds and every query is decided by one of the two bundles.
func TestHotReloadUnderConcurrentQueries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	writeRevision(t, dir, "r1")
	src := &policy.PathSource{Path: dir}
	p, err := src.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder := policy.NewHolder(p, nil)
	go func() { _ = policy.Watch(ctx, holder, src, 100*time.Millisecond, nil) }()
	h, _ := newTestHandler(t, holder)
	peer := spiffeid.RequireFromString("spiffe://example.org/coordinator")

	var mu sync.Mutex
	seen := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := h.Serve(ctx, peer, salesByRegion())
				if err != nil {
					t.Errorf("query during reload: %v", err)
					return
				}
				for _, b := range res.Batches {
					b.Release()
				}
				mu.Lock()
				seen[res.Meta.BundleRevision]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	writeRevision(t, dir, "r2")
	start := time.Now()
	for holder.Revision() != "r2" {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("r2 not active 5s after it was written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("reload picked up after %s", time.Since(start))
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if seen["r1"] == 0 || seen["r2"] == 0 || len(seen) != 2 {
		t.Errorf("revisions that decided queries = %v, want r1 then r2 and nothing else", seen)
	}
}
