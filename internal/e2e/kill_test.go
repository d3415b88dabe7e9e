package e2e

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
)

// TestSiteKilledMidQuery runs three real site-agent processes over a table
// slow enough to be mid-query, kills site b with SIGKILL, and checks that
// the query fails promptly naming b, and that a and c saw their sub-queries
// cancelled (their audit logs record the cancellation).
func TestSiteKilledMidQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the site-agent binary")
	}
	fx := sharedFixture(t)
	work := t.TempDir()
	bin := filepath.Join(work, "site-agent")
	build := exec.Command("go", "build", "-o", bin, "github.com/fedmesh/fedmesh/cmd/site-agent")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build site-agent: %v\n%s", err, out)
	}

	certDir := filepath.Join(fx.dir, "certs")
	procs := map[string]*exec.Cmd{}
	var coordSites []coordinator.Site
	for _, s := range sites3 {
		addr := freeAddr(t)
		cert, key := certs.Paths(certDir, certs.SiteFileName(s))
		cfg := config.Agent{
			Site:                s,
			Listen:              addr,
			Identity:            config.Identity{Source: "files", Cert: cert, Key: key, Bundle: filepath.Join(certDir, certs.BundleFile)},
			AllowedCoordinators: []string{certs.CoordinatorID(td).String()},
			Engine:              config.Engine{Threads: 1},
			Tables:              []config.Table{{Name: "sales", Format: "duckdb", Path: slowTable(t, work, s)}},
			Policy:              config.Policy{Bundle: config.BuiltinDefaultBundle},
			Audit:               config.Audit{Path: filepath.Join(work, "site-"+s+".log")},
			Log:                 config.Log{Level: "debug"},
		}
		cfgPath := filepath.Join(work, "site-"+s+".yaml")
		b, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		stderr, err := os.Create(filepath.Join(work, "site-"+s+".stderr"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-config", cfgPath)
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[s] = cmd
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			stderr.Close()
			if t.Failed() {
				b, _ := os.ReadFile(stderr.Name())
				t.Logf("site %s stderr:\n%s", s, b)
			}
		})
		id, _ := certs.SiteID(td, s)
		coordSites = append(coordSites, coordinator.Site{Name: s, Addr: addr, ID: id})
	}
	for _, s := range coordSites {
		waitTCP(t, s.Addr)
	}

	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	fed := &federation{t: t, audits: map[string]string{}, logs: logs}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	const timeout = 60 * time.Second
	fed.startCoordinator(ctx, &wg, work, loadSource(t, certDir, certs.CoordinatorName), coordSites, timeout, logger)

	answer := make(chan response, 1)
	start := time.Now()
	go func() { answer <- fed.query("SELECT region, COUNT(*), SUM(amount) FROM sales GROUP BY region") }()

	// Wait until every site is running its sub-query, then kill b.
	for _, s := range sites3 {
		waitFor(t, 20*time.Second, "site "+s+" to start its query", func() bool {
			b, _ := os.ReadFile(filepath.Join(work, "site-"+s+".stderr"))
			// The sub-plan's query, not the catalog's describe (which has no GROUP BY).
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "duckdb query") && strings.Contains(line, "GROUP BY") {
					return true
				}
			}
			return false
		})
	}
	if err := procs["b"].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Since(start)

	var got response
	select {
	case got = <-answer:
	case <-time.After(timeout):
		t.Fatalf("no answer %s after killing site b", timeout)
	}
	elapsed := time.Since(start)
	if got.Status == 200 || got.Error == nil {
		t.Fatalf("query succeeded although site b was killed: %+v", got)
	}
	if got.Error.Site != "b" {
		t.Errorf("error names site %q, want b: %s", got.Error.Site, got.Error.Message)
	}
	if elapsed-killedAt > 10*time.Second {
		t.Errorf("the query failed %s after site b died; the site's death should end it promptly", elapsed-killedAt)
	}
	t.Logf("site b killed at %s, query failed at %s: %s", killedAt, elapsed, got.Error.Message)

	// a and c must have stopped their engines and audited the cancellation.
	for _, s := range []string{"a", "c"} {
		path := filepath.Join(work, "site-"+s+".log")
		var rec audit.Record
		waitFor(t, 10*time.Second, "site "+s+" to audit the cancelled sub-query", func() bool {
			for _, r := range readRecords(t, path) {
				if r.Decision == audit.DecisionError {
					rec = r
					return true
				}
			}
			return false
		})
		if !strings.Contains(rec.Error, "cancel") {
			t.Errorf("site %s audited %q, want a cancellation", s, rec.Error)
		}
		if rec.Event == audit.EventExport {
			t.Errorf("site %s exported although the query was cancelled", s)
		}
	}
}

// slowTable makes a DuckDB file whose sales view aggregates billions of
// generated rows, so a query on it is reliably still running when killed.
func slowTable(t *testing.T, dir, site string) string {
	t.Helper()
	path := filepath.Join(dir, "slow-"+site+".duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`CREATE VIEW sales AS SELECT i AS order_id, i % 1000 AS customer_id,
		'r' || (i % 7)::VARCHAR AS region, (2020 + i % 5)::INTEGER AS year, (i % 1000) * 1.5 AS amount
		FROM range(20000000000) t(i)`)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, 30*time.Second, "a listener on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		return false
	})
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up after %s waiting for %s", limit, what)
}
