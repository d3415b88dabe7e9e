package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/policy"
)

// trustDomain is the benchmarks' dev trust domain.
var trustDomain = spiffeid.RequireTrustDomainFromString("bench.example.org")

// policySetup describes the policy every benchmark site runs.
const policySetup = "policy: the built-in default bundle, unchanged (aggregate-only, min_group_size 10, denied columns customer_id and order_id); every site evaluates it per sub-plan and suppresses small groups"

// auditSetup describes the audit logs.
const auditSetup = "audit: durable hash-chained logs (fsync before export) at every site and at the coordinator, unsigned heads"

// siteSpec is one in-process site agent.
type siteSpec struct {
	name string
	open func(ctx context.Context) (enginebridge.Engine, error)
}

// federation is a coordinator and its site agents running in this process
// over mTLS on 127.0.0.1.
type federation struct {
	url     string
	token   string
	coord   *coordinator.Coordinator
	analyst coordinator.Analyst
	client  *http.Client
	audits  []string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// fedConfig changes what startFederationWith starts; the zero value is
// every benchmark's federation (default policy, static token, no DP).
type fedConfig struct {
	// loadPolicy replaces the built-in default bundle at every site.
	loadPolicy func(ctx context.Context) (*policy.Policy, error)
	// verifier makes every site verify the analyst's credential, which
	// the analyst then carries, and keep a privacy-budget ledger in work.
	verifier   *credential.Verifier
	credential string
}

// startFederation issues certificates in work/certs, starts one agent per
// site and a coordinator, and returns once all serve.
func startFederation(ctx context.Context, e *env, work string, sites []siteSpec) (*federation, error) {
	return startFederationWith(ctx, e, work, sites, fedConfig{})
}

// startFederationWith is startFederation with fc's changes.
func startFederationWith(ctx context.Context, e *env, work string, sites []siteSpec, fc fedConfig) (*federation, error) {
	names := make([]string, len(sites))
	for i, s := range sites {
		names[i] = s.name
	}
	certDir := filepath.Join(work, "certs")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: trustDomain.Name(), OutDir: certDir, Sites: names, Force: true}); err != nil {
		return nil, fmt.Errorf("dev CA: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	f := &federation{cancel: cancel, client: newHTTPClient()}
	coordID := certs.CoordinatorID(trustDomain)
	var coordSites []coordinator.Site
	ready := make(chan error, len(sites)+1)
	for _, s := range sites {
		src, err := loadSource(certDir, certs.SiteFileName(s.name))
		if err != nil {
			f.stop()
			return nil, err
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.stop()
			return nil, err
		}
		auditPath := filepath.Join(work, "audit-site-"+s.name+".log")
		f.audits = append(f.audits, auditPath)
		loadPolicy := fc.loadPolicy
		if loadPolicy == nil {
			loadPolicy = func(ctx context.Context) (*policy.Policy, error) { return policy.LoadDefault(ctx, e.log) }
		}
		acfg := agent.Config{
			Site:                s.name,
			Listener:            lis,
			Identity:            src,
			AllowedCoordinators: []spiffeid.ID{coordID},
			OpenEngine:          s.open,
			Tables:              []string{"sales", "products", "people"}, // the bench's tables (b1 has sales and products, b8 people)
			LoadPolicy:          loadPolicy,
			AuditPath:           auditPath,
			QueryTimeout:        10 * time.Minute,
			Logger:              e.log,
			Ready:               func(net.Addr) { ready <- nil },
		}
		if fc.verifier != nil {
			acfg.AnalystVerifier = fc.verifier
			acfg.LedgerPath = filepath.Join(work, "ledger-site-"+s.name)
		}
		a, err := agent.New(acfg)
		if err != nil {
			f.stop()
			return nil, err
		}
		f.goRun("site "+s.name, func() error { return a.Run(rctx) }, ready)
		id, err := certs.SiteID(trustDomain, s.name)
		if err != nil {
			f.stop()
			return nil, err
		}
		coordSites = append(coordSites, coordinator.Site{Name: s.name, Addr: lis.Addr().String(), ID: id})
	}
	src, err := loadSource(certDir, certs.CoordinatorName)
	if err != nil {
		f.stop()
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.stop()
		return nil, err
	}
	f.token = "bench-token"
	f.analyst = coordinator.Analyst{ID: "bench", Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(f.token), Credential: fc.credential}
	auditPath := filepath.Join(work, "audit-coordinator.log")
	f.audits = append(f.audits, auditPath)
	c, err := coordinator.New(coordinator.Config{
		Listener:     lis,
		Identity:     src,
		Sites:        coordSites,
		Analysts:     []coordinator.Analyst{f.analyst},
		AuditPath:    auditPath,
		QueryTimeout: 10 * time.Minute,
		Logger:       e.log,
		Ready:        func(net.Addr) { ready <- nil },
	})
	if err != nil {
		f.stop()
		return nil, err
	}
	f.coord = c
	f.goRun("coordinator", func() error { return c.Run(rctx) }, ready)
	f.url = "http://" + lis.Addr().String()
	timeout := time.After(2 * time.Minute)
	for range len(sites) + 1 {
		select {
		case err := <-ready:
			if err != nil {
				f.stop()
				return nil, err
			}
		case <-timeout:
			f.stop()
			return nil, errors.New("federation did not come up within 2 minutes")
		case <-ctx.Done():
			f.stop()
			return nil, ctx.Err()
		}
	}
	return f, nil
}

// goRun runs fn until the federation stops; an early failure is sent to
// ready so that start-up does not wait for it.
func (f *federation) goRun(name string, fn func() error, ready chan<- error) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := fn(); err != nil {
			f.mu.Lock()
			f.errs = append(f.errs, fmt.Errorf("%s: %w", name, err))
			f.mu.Unlock()
			select {
			case ready <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// stop shuts everything down and returns what failed while running.
func (f *federation) stop() error {
	f.cancel()
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}

func loadSource(dir, name string) (certs.Source, error) {
	cert, key := certs.Paths(dir, name)
	src, err := certs.LoadFiles(cert, key, filepath.Join(dir, certs.BundleFile))
	if err != nil {
		return nil, fmt.Errorf("load identity %s: %w", name, err)
	}
	return src, nil
}

// httpQuery sends sql through the HTTP API and reads the whole answer. It
// returns the body's size; a non-200 answer is an error carrying the body.
func (f *federation) httpQuery(ctx context.Context, sql string) (int64, error) {
	body, _ := json.Marshal(map[string]string{"sql": sql, "purpose": "benchmark"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/v1/query", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, &queryError{status: resp.StatusCode, body: string(bytes.TrimSpace(raw))}
	}
	return io.Copy(io.Discard, resp.Body)
}

// goQuery runs sql through the coordinator's Go API (no HTTP or JSON) and
// returns the number of answer rows.
func (f *federation) goQuery(ctx context.Context, sql string) (int, error) {
	ans, err := f.coord.Query(ctx, f.analyst, sql, "benchmark")
	if err != nil {
		return 0, err
	}
	return len(ans.Rows), nil
}

type queryError struct {
	status int
	body   string
}

func (e *queryError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// refusal extracts the planner's or a site's message from a failed query.
func refusal(err error) string {
	var qe *queryError
	if errors.As(err, &qe) {
		var v struct {
			Error struct {
				Code    string   `json:"code"`
				Message string   `json:"message"`
				Reasons []string `json:"reasons"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(qe.body), &v) == nil && v.Error.Message != "" {
			msg := v.Error.Code + ": " + v.Error.Message
			for _, r := range v.Error.Reasons {
				msg += "; " + r
			}
			return msg
		}
	}
	var ce *coordinator.QueryError
	if errors.As(err, &ce) {
		msg := ce.Error()
		for _, r := range ce.Reasons {
			msg += "; " + r
		}
		return msg
	}
	return err.Error()
}

// newHTTPClient keeps enough idle connections for B6's clients.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
}

// discardLogger is for components whose logs would only be noise.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
