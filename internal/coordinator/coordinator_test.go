package coordinator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
)

// brokenIdentity is a real SVID source whose upkeep fails once fail is
// closed.
type brokenIdentity struct {
	certs.Source
	fail chan struct{}
	err  error
}

func (b brokenIdentity) Run(ctx context.Context) error {
	select {
	case <-b.fail:
		return b.err
	case <-ctx.Done():
		return nil
	}
}

// TestCoordinatorStopsWhenItsIdentityFails: a coordinator whose identity
// upkeep fails stops its HTTP API and returns that error, named, instead
// of running on with an SVID that will expire.
func TestCoordinatorStopsWhenItsIdentityFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "example.org", OutDir: dir, Sites: []string{"a"}}); err != nil {
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
	siteID, _ := certs.SiteID(spiffeid.RequireTrustDomainFromString("example.org"), "a")
	errRenew := errors.New("workload API stream closed")
	ready, fail := make(chan net.Addr, 1), make(chan struct{})
	c, err := New(Config{
		Listener:       lis,
		Identity:       brokenIdentity{Source: src, fail: fail, err: errRenew},
		Sites:          []Site{{Name: "a", Addr: "127.0.0.1:1", ID: siteID}},
		AuditPath:      filepath.Join(dir, "coordinator.log"),
		CatalogRefresh: -1,
		Ready:          func(a net.Addr) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	addr := <-ready
	resp, err := http.Get("http://" + addr.String() + "/healthz")
	if err != nil {
		t.Fatalf("healthz while running: %v", err)
	}
	resp.Body.Close()
	close(fail)
	err = <-errc
	if !errors.Is(err, errRenew) || !strings.HasPrefix(err.Error(), "identity: ") {
		t.Fatalf("Run = %v, want the identity's error named identity", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run returned only when the test's deadline passed")
	}
	if _, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		t.Error("the HTTP listener still accepts connections after Run returned")
	}
}
