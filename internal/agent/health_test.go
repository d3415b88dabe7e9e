package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/policy"
)

// failingEngine is a DuckDB engine that has lost its backend: every query
// fails, as a PostgreSQL site's does when its database is down.
type failingEngine struct{ enginebridge.Engine }

func (failingEngine) Query(context.Context, string, []any) (array.RecordReader, error) {
	return nil, errors.New("connect: connection refused")
}

// healthAgent starts an agent on loopback with the given policy and engine
// settings and returns a gRPC health client speaking mTLS as the
// coordinator, as an orchestrator's probe with the coordinator's SVID does.
func healthAgent(t *testing.T, mutate func(*Config)) healthpb.HealthClient {
	t.Helper()
	dir := t.TempDir()
	td := spiffeid.RequireTrustDomainFromString("example.org")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td.Name(), OutDir: dir, Sites: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, certs.BundleFile)
	cert, key := certs.Paths(dir, certs.SiteFileName("a"))
	src, err := certs.LoadFiles(cert, key, bundle)
	if err != nil {
		t.Fatal(err)
	}
	ccert, ckey := certs.Paths(dir, certs.CoordinatorName)
	csrc, err := certs.LoadFiles(ccert, ckey, bundle)
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
	logger := slog.New(slog.DiscardHandler)
	cfg := Config{
		Site:                "a",
		Listener:            lis,
		Identity:            src,
		AllowedCoordinators: []spiffeid.ID{certs.CoordinatorID(td)},
		OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
			return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "sales", Format: "csv", Path: csv}}}, logger)
		},
		LoadPolicy: func(ctx context.Context) (*policy.Policy, error) { return policy.LoadDefault(ctx, logger) },
		Tables:     []string{"sales"},
		AuditPath:  filepath.Join(dir, "audit.log"),
		Logger:     logger,
	}
	mutate(&cfg)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	siteID, err := certs.SiteID(td, "a")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(certs.ClientTLS(csrc, siteID))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// waitHealth polls service's status until it is want or 20 s pass, and
// returns the last status seen.
func waitHealth(t *testing.T, hc healthpb.HealthClient, service string, want healthpb.HealthCheckResponse_ServingStatus) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got healthpb.HealthCheckResponse_ServingStatus
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		cancel()
		if err == nil {
			got = resp.GetStatus()
			if got == want {
				return got
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

// TestHealth: the Flight port answers the standard gRPC health check,
// SERVING only while the site has a policy bundle and its engine answers.
func TestHealth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*Config)
		want   healthpb.HealthCheckResponse_ServingStatus
	}{
		{"bundle loaded and engine up", func(*Config) {}, healthpb.HealthCheckResponse_SERVING},
		{"no bundle yet", func(c *Config) {
			// A bundle that cannot be read, polled: the agent starts and
			// refuses everything until a good bundle arrives.
			c.LoadPolicy = nil
			c.PolicySource = &policy.PathSource{Path: filepath.Join(t.TempDir(), "missing")}
			c.PolicyPoll = time.Hour
		}, healthpb.HealthCheckResponse_NOT_SERVING},
		{"engine down", func(c *Config) {
			open := c.OpenEngine
			c.OpenEngine = func(ctx context.Context) (enginebridge.Engine, error) {
				e, err := open(ctx)
				return failingEngine{e}, err
			}
		}, healthpb.HealthCheckResponse_NOT_SERVING},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hc := healthAgent(t, func(c *Config) {
				c.HealthInterval = 20 * time.Millisecond
				tc.mutate(c)
			})
			for _, svc := range []string{"", FlightServiceName} {
				if got := waitHealth(t, hc, svc, tc.want); got != tc.want {
					t.Errorf("service %q: status %v, want %v", svc, got, tc.want)
				}
			}
			// NOT_SERVING is also the status before the first probe: the
			// verdict must hold after several probes.
			time.Sleep(200 * time.Millisecond)
			if got := waitHealth(t, hc, "", tc.want); got != tc.want {
				t.Errorf("after several probes: status %v, want %v", got, tc.want)
			}
		})
	}
}

// TestHealthFollowsTheBundle: a site that starts without a bundle turns
// SERVING once one arrives.
func TestHealthFollowsTheBundle(t *testing.T) {
	t.Parallel()
	bundleDir := filepath.Join(t.TempDir(), "bundle")
	hc := healthAgent(t, func(c *Config) {
		c.LoadPolicy = nil
		c.PolicySource = &policy.PathSource{Path: bundleDir}
		c.PolicyPoll = 100 * time.Millisecond
		c.HealthInterval = 100 * time.Millisecond
	})
	if got := waitHealth(t, hc, "", healthpb.HealthCheckResponse_NOT_SERVING); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("before the bundle: %v, want NOT_SERVING", got)
	}
	if err := os.CopyFS(bundleDir, os.DirFS(filepath.Join("..", "..", "policy", "bundles", "default"))); err != nil {
		t.Fatal(err)
	}
	if got := waitHealth(t, hc, "", healthpb.HealthCheckResponse_SERVING); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("after the bundle: %v, want SERVING", got)
	}
}
