package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/policy"
)

// brokenIdentity is a real SVID source whose upkeep fails, as a SPIRE or
// Vault source does when it can no longer renew.
type brokenIdentity struct {
	certs.Source
	err error
}

func (b brokenIdentity) Run(ctx context.Context) error {
	select {
	case <-time.After(100 * time.Millisecond):
		return b.err
	case <-ctx.Done():
		return nil
	}
}

// TestAgentStopsWhenItsIdentityFails: an agent whose identity upkeep
// fails stops serving and returns that error, named, instead of running
// on with an SVID that will expire; its audit log is closed cleanly.
func TestAgentStopsWhenItsIdentityFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "example.org", OutDir: dir, Sites: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	cert, key := certs.Paths(dir, certs.SiteFileName("a"))
	src, err := certs.LoadFiles(cert, key, filepath.Join(dir, certs.BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(csv, []byte(salesCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errRenew := errors.New("renew SVID: permission denied")
	logger := slog.New(slog.DiscardHandler)
	auditPath := filepath.Join(dir, "audit.log")
	served := make(chan struct{})
	a, err := New(Config{
		Site:                "a",
		Listener:            lis,
		Identity:            brokenIdentity{Source: src, err: errRenew},
		AllowedCoordinators: []spiffeid.ID{certs.CoordinatorID(spiffeid.RequireTrustDomainFromString("example.org"))},
		OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
			return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "sales", Format: "csv", Path: csv}}}, logger)
		},
		LoadPolicy: func(ctx context.Context) (*policy.Policy, error) { return policy.LoadDefault(ctx, logger) },
		Tables:     []string{"sales"},
		AuditPath:  auditPath,
		Logger:     logger,
		Ready:      func(net.Addr) { close(served) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if !errors.Is(err, errRenew) || !strings.HasPrefix(err.Error(), "identity: ") {
		t.Fatalf("Run = %v, want the identity's error named identity", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("Run returned only when the test's deadline passed")
	}
	select {
	case <-served:
	default:
		t.Error("the agent never served before its identity failed")
	}
	if _, err := net.DialTimeout("tcp", lis.Addr().String(), time.Second); err == nil {
		t.Error("the Flight listener still accepts connections after Run returned")
	}
	// The audit log was closed: another writer can open it.
	l, err := audit.Open(auditPath, audit.Options{Logger: logger})
	if err != nil {
		t.Fatalf("audit log after Run: %v", err)
	}
	_ = l.Close()
}
