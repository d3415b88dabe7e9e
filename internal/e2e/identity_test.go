package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/policy"
)

// idSite is one site of an identity federation: its own Source and
// allow-list, and the ID the coordinator expects of it.
type idSite struct {
	name   string
	src    certs.Source
	id     spiffeid.ID
	allow  certs.Allow
	listen net.Listener // optional: a listener bound in advance
}

// idFedOptions describes a federation whose identities the test controls.
type idFedOptions struct {
	coordinator      certs.Source
	sites            []idSite
	maxConnectionAge time.Duration
	// more coordinators, each with its own HTTP API, sharing the sites.
	more []certs.Source
}

// startIdentityFederation starts the sites and a coordinator in-process
// with the given identities. Identity sources that are certs.Runners are
// run by the agents and the coordinator themselves.
func startIdentityFederation(t *testing.T, opts idFedOptions) *idFed {
	t.Helper()
	fx := sharedFixture(t)
	work := t.TempDir()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	fed := &idFed{federation: &federation{t: t, audits: map[string]string{}, logs: logs}, addrs: map[string]string{}}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("federation logs:\n%s", logs.String())
		}
	})
	bundle := defaultBundleWith(t, 0)
	var coordSites []coordinator.Site
	for _, s := range opts.sites {
		lis := s.listen
		if lis == nil {
			var err error
			if lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
		tables := []enginebridge.TableSource{
			{Name: "sales", Format: "parquet", Path: fx.files[s.name].Sales},
			{Name: "customers", Format: "parquet", Path: fx.files[s.name].Customers},
		}
		auditPath := filepath.Join(work, "site-"+s.name+".log")
		fed.audits["site-"+s.name] = auditPath
		a, err := agent.New(agent.Config{
			Site:                       s.name,
			Listener:                   lis,
			Identity:                   s.src,
			AllowedCoordinators:        s.allow.IDs,
			AllowedCoordinatorPrefixes: s.allow.Prefixes,
			MaxConnectionAge:           opts.maxConnectionAge,
			OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
				return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: tables, Threads: 1}, logger)
			},
			LoadPolicy:   func(ctx context.Context) (*policy.Policy, error) { return policy.Load(ctx, bundle, logger) },
			Tables:       []string{"sales", "customers"},
			AuditPath:    auditPath,
			QueryTimeout: 30 * time.Second,
			Logger:       logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		name := s.name
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("site %s: %v", name, err)
			}
		}()
		coordSites = append(coordSites, coordinator.Site{Name: s.name, Addr: lis.Addr().String(), ID: s.id})
		fed.addrs[s.name] = lis.Addr().String()
	}
	fed.startCoordinator(ctx, &wg, work, opts.coordinator, coordSites, 30*time.Second, logger)
	for _, src := range opts.more {
		other := &federation{t: t, audits: map[string]string{}, logs: logs}
		other.startCoordinator(ctx, &wg, t.TempDir(), src, coordSites, 30*time.Second, logger)
		fed.others = append(fed.others, other)
	}
	return fed
}

// idFed is a federation started by startIdentityFederation.
type idFed struct {
	*federation
	addrs  map[string]string // site → Flight address
	others []*federation     // idFedOptions.more's coordinators
}

// trustAll presents Source's SVID but also trusts also's bundles, so that
// a test sees the server's verdict rather than its own.
type trustAll struct {
	certs.Source
	also certs.Source
}

func (s trustAll) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	if b, err := s.also.GetX509BundleForTrustDomain(td); err == nil {
		return b, nil
	}
	return s.Source.GetX509BundleForTrustDomain(td)
}

// tryQuery is federation.query for use off the test goroutine: it returns
// what went wrong instead of failing the test.
func (f *federation) tryQuery(sql string) (response, error) {
	body, _ := json.Marshal(map[string]string{"sql": sql, "purpose": "identity test"})
	req, _ := http.NewRequest(http.MethodPost, f.url+"/v1/query", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("HTTP %d, undecodable body %q: %w", resp.StatusCode, raw, err)
	}
	r.Status = resp.StatusCode
	if r.Status != http.StatusOK {
		return r, fmt.Errorf("HTTP %d: %s", r.Status, raw)
	}
	return r, nil
}

// queryLoop runs sql from workers goroutines until stop is closed (or
// limit passes), and returns how many queries ran and the failures. done,
// if set, counts finished queries as they finish.
func (f *federation) queryLoop(sql string, workers int, stop <-chan struct{}, limit time.Duration, done *atomic.Int64) (int, []error) {
	var mu sync.Mutex
	var n int
	var fails []error
	deadline := time.Now().Add(limit)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				_, err := f.tryQuery(sql)
				mu.Lock()
				n++
				if err != nil {
					fails = append(fails, err)
				}
				mu.Unlock()
				if done != nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return n, fails
}

// moreQueries waits until k more queries than now have finished.
func moreQueries(t *testing.T, done *atomic.Int64, k int64, phase string) {
	t.Helper()
	target := done.Load() + k
	waitFor(t, 30*time.Second, fmt.Sprintf("%d queries %s", k, phase), func() bool { return done.Load() >= target })
}

// spySource records the serial of every SVID it hands to a handshake.
type spySource struct {
	certs.Source
	mu     sync.Mutex
	served map[string]int
}

func spy(s certs.Source) *spySource { return &spySource{Source: s, served: map[string]int{}} }

func (s *spySource) GetX509SVID() (*x509svid.SVID, error) {
	svid, err := s.Source.GetX509SVID()
	if err == nil {
		s.mu.Lock()
		s.served[svid.Certificates[0].SerialNumber.String()]++
		s.mu.Unlock()
	}
	return svid, err
}

func (s *spySource) servedSerial(serial string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[serial]
}

// servedOtherThan reports whether s handed a handshake an SVID whose serial
// is not first: a rotated or renewed one.
func (s *spySource) servedOtherThan(first string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for serial := range s.served {
		if serial != first {
			return true
		}
	}
	return false
}

// queryAcrossRenewals runs trustSQL in a loop while the coordinator's and
// sites a and b's sources replace their SVIDs, until each has handed a new
// SVID (a serial other than first[n]) to a handshake or limit passes, then
// 2 s more so queries run on the new SVIDs. It fails when a component never
// served a new SVID, when any query failed, or when none ran. how names the
// renewal in messages ("SPIRE rotation", "Vault renewals").
func queryAcrossRenewals(t *testing.T, fed *federation, spies map[string]*spySource, first map[string]string, limit time.Duration, how string) {
	t.Helper()
	stop := make(chan struct{})
	type result struct {
		n     int
		fails []error
	}
	done := make(chan result)
	go func() {
		n, fails := fed.queryLoop(trustSQL, 2, stop, 90*time.Second, nil)
		done <- result{n, fails}
	}()
	components := []string{"coordinator", "a", "b"}
	renewed := func(n string) bool { return spies[n].servedOtherThan(first[n]) }
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && !(renewed(components[0]) && renewed(components[1]) && renewed(components[2])) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // queries on the new SVIDs
	close(stop)
	res := <-done
	t.Logf("%d queries during %s", res.n, how)
	for _, n := range components {
		if !renewed(n) {
			t.Errorf("%s: no handshake used a new SVID within %s", n, limit)
		}
	}
	if len(res.fails) > 0 {
		t.Errorf("%d of %d queries failed during %s; first: %v", len(res.fails), res.n, how, res.fails[0])
	}
	if res.n == 0 {
		t.Errorf("no queries ran during %s", how)
	}
}

// Run keeps the wrapped source running: the agent only sees the spy.
func (s *spySource) Run(ctx context.Context) error {
	if r, ok := s.Source.(certs.Runner); ok {
		return r.Run(ctx)
	}
	return nil
}

// mounted is a component's identity files in their own directory, as a
// deployment mounts them, and the FileSource reading them.
type mounted struct {
	cert, key, bundle string
	src               *certs.FileSource
}

func mount(t *testing.T, fromDir, name string, bundlePEM []byte) *mounted {
	t.Helper()
	dir := t.TempDir()
	m := &mounted{bundle: filepath.Join(dir, "bundle.pem")}
	m.cert, m.key = certs.Paths(dir, "svid")
	m.install(t, fromDir, name)
	writeAtomic(t, m.bundle, bundlePEM)
	src, err := certs.OpenFiles(certs.FileOptions{Cert: m.cert, Key: m.key, Bundle: m.bundle, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.src = src
	return m
}

// install copies SVID name from dir: key first, then certificate, each
// renamed into place, as cert-manager or a SPIRE helper would.
func (m *mounted) install(t *testing.T, dir, name string) {
	t.Helper()
	c, k := certs.Paths(dir, name)
	writeAtomic(t, m.key, mustRead(t, k))
	writeAtomic(t, m.cert, mustRead(t, c))
}

func writeAtomic(t *testing.T, p string, b []byte) {
	t.Helper()
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

func serialIn(t *testing.T, dir, name string) string {
	t.Helper()
	c, k := certs.Paths(dir, name)
	svid, err := x509svid.Load(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return svid.Certificates[0].SerialNumber.String()
}

// handshake dials addr with an mTLS client config and reports the
// handshake's outcome.
func handshake(addr string, cfg *tls.Config) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"} // gRPC servers insist on ALPN
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	// TLS 1.3: the server's verdict on our certificate arrives after the
	// client's handshake completes; a read surfaces it.
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	return err
}
