package coordinator

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
)

// TestLivezReadyz: /livez answers while the process serves; /readyz only
// once some site's catalog is known, naming the sites still missing.
func TestLivezReadyz(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td := spiffeid.RequireTrustDomainFromString("example.org")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td.Name(), OutDir: dir, Sites: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	cert, key := certs.Paths(dir, certs.CoordinatorName)
	src, err := certs.LoadFiles(cert, key, filepath.Join(dir, certs.BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idA, _ := certs.SiteID(td, "a")
	idB, _ := certs.SiteID(td, "b")
	ready := make(chan net.Addr, 1)
	// Neither site listens: their catalogs stay missing.
	c, err := New(Config{
		Listener:       lis,
		Identity:       src,
		Sites:          []Site{{Name: "a", Addr: "127.0.0.1:1", ID: idA}, {Name: "b", Addr: "127.0.0.1:1", ID: idB}},
		AuditPath:      filepath.Join(dir, "coordinator.log"),
		CatalogRefresh: -1,
		Ready:          func(a net.Addr) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base := "http://" + (<-ready).String()
	get := func(path string) (int, readiness) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r readiness
		if path == PathReadyz {
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatalf("%s body: %v", path, err)
			}
		}
		return resp.StatusCode, r
	}
	if code, _ := get(PathLivez); code != http.StatusOK {
		t.Errorf("%s = %d, want 200", PathLivez, code)
	}
	code, r := get(PathReadyz)
	want := readiness{Ready: false, Audit: "ok", Sites: map[string]string{"a": "missing", "b": "missing"}}
	if code != http.StatusServiceUnavailable || !cmp.Equal(r, want) {
		t.Errorf("%s without catalogs = %d %+v, want 503 %+v", PathReadyz, code, r, want)
	}
	// Site a reports its catalog (as fetchCatalog stores it).
	c.catalogs.set("a", &flight.CatalogResult{Site: "a"})
	code, r = get(PathReadyz)
	want = readiness{Ready: true, Audit: "ok", Sites: map[string]string{"a": "known", "b": "missing"}}
	if code != http.StatusOK || !cmp.Equal(r, want) {
		t.Errorf("%s with a's catalog = %d %+v, want 200 %+v", PathReadyz, code, r, want)
	}
	// A closed (or failed) audit log refuses every query: not ready.
	if err := c.audit.Close(); err != nil {
		t.Fatal(err)
	}
	code, r = get(PathReadyz)
	if code != http.StatusServiceUnavailable || r.Ready || r.Audit == "ok" {
		t.Errorf("%s with the audit log closed = %d %+v, want 503 naming the audit log", PathReadyz, code, r)
	}
}
