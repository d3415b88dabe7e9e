package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/coordinator"
)

// gatedEngine holds every query at one site while armed, until the gate
// opens or the query's context ends: a slow (or hung) site on demand.
type gatedEngine struct {
	enginebridge.Engine
	armed   *atomic.Bool
	entered chan struct{} // one send per held query
	gate    chan struct{} // closed: let everything through
}

func (g *gatedEngine) Query(ctx context.Context, sql string, args []any) (array.RecordReader, error) {
	if g.armed.Load() {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Engine.Query(ctx, sql, args)
}

type gate struct {
	armed   atomic.Bool
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 64), open: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// wrap gates the engine of site only.
func (g *gate) wrap(site string) func(string, enginebridge.Engine) enginebridge.Engine {
	return func(s string, e enginebridge.Engine) enginebridge.Engine {
		if s != site {
			return e
		}
		return &gatedEngine{Engine: e, armed: &g.armed, entered: g.entered, gate: g.open}
	}
}

// admResponse is the part of an answer or error these tests look at.
type admResponse struct {
	Status     int
	RetryAfter string
	QueryID    string  `json:"query_id"`
	Rows       [][]any `json:"rows"`
	Sites      []struct {
		Site string `json:"site"`
	} `json:"sites"`
	Partial bool                      `json:"partial"`
	Missing []coordinator.MissingSite `json:"missing"`
	Error   *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Site       string `json:"site"`
		RetryAfter int    `json:"retry_after"`
		QueryID    string `json:"query_id"`
	} `json:"error"`
}

// ask posts a query as the analyst with token; body extras (allow_partial)
// are merged in. Transport errors are returned, not fatal, so it can run
// off the test goroutine.
func (f *federation) ask(token, sql string, extra map[string]any) (admResponse, error) {
	return f.askWith(http.DefaultClient, token, sql, extra)
}

func (f *federation) askWith(client *http.Client, token, sql string, extra map[string]any) (admResponse, error) {
	body := map[string]any{"sql": sql, "purpose": "e2e test"}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.url+"/v1/query", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return admResponse{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r admResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return admResponse{}, err
	}
	r.Status, r.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	return r, nil
}

const admQuery = "SELECT region, COUNT(*) AS n FROM sales GROUP BY region"

// TestSiteBusy: site b has one engine slot and no queue; while a query
// holds the slot, the next is answered 503 site_busy naming b, with a
// Retry-After, and the first still completes.
func TestSiteBusy(t *testing.T) {
	g := newGate()
	fed := startFederation(t, fedOptions{wrapEngine: g.wrap("b"), maxConcurrent: 1, maxQueue: -1, queueTimeout: 2 * time.Second})
	if r, err := fed.ask(fed.token, admQuery, nil); err != nil || r.Status != 200 {
		t.Fatalf("warm-up: %v %+v", err, r)
	}
	g.armed.Store(true)
	first := make(chan admResponse, 1)
	go func() {
		r, err := fed.ask(fed.token, admQuery, nil)
		if err != nil {
			t.Errorf("first query: %v", err)
		}
		first <- r
	}()
	<-g.entered // b's slot is taken
	// Every site has one slot: a and c must have finished the first query
	// (their slot is free once its export is audited) before the second
	// comes, so that only b is busy.
	for _, site := range []string{"a", "c"} {
		waitFor(t, 10*time.Second, "site "+site+" to finish the first query", func() bool {
			exports := 0
			for _, rec := range readRecords(t, fed.audits["site-"+site]) {
				if rec.Event == audit.EventExport {
					exports++
				}
			}
			return exports >= 2 // the warm-up's and the first query's
		})
	}
	r, err := fed.ask(fed.token, admQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusServiceUnavailable || r.Error == nil || r.Error.Code != string(coordinator.CodeSiteBusy) || r.Error.Site != "b" {
		t.Fatalf("second query: HTTP %d %+v, want 503 site_busy naming b", r.Status, r.Error)
	}
	if s, err := strconv.Atoi(r.RetryAfter); err != nil || s < 1 || r.Error.RetryAfter != s {
		t.Errorf("Retry-After %q, body retry_after %d: want the same whole seconds ≥ 1", r.RetryAfter, r.Error.RetryAfter)
	}
	g.release()
	if r := <-first; r.Status != 200 {
		t.Errorf("the query holding the slot: HTTP %d %+v", r.Status, r.Error)
	}
	// Site b audited its refusal.
	found := false
	for _, rec := range readRecords(t, fed.audits["site-b"]) {
		if rec.QueryID == r.Error.QueryID && rec.Error == "busy: queue_full" {
			found = true
		}
	}
	if !found {
		t.Errorf("site b's audit log has no busy record for query %s", r.Error.QueryID)
	}
}

// TestCoordinatorQuota: over max_concurrent_per_analyst the coordinator
// answers 429 quota_exceeded with Retry-After; another analyst is not
// affected.
func TestCoordinatorQuota(t *testing.T) {
	g := newGate()
	fed := startFederation(t, fedOptions{wrapEngine: g.wrap("a"), quotas: coordinator.Quotas{MaxConcurrentPerAnalyst: 1},
		analysts: map[string]string{"bob": "bob-token"}})
	if r, err := fed.ask(fed.token, admQuery, nil); err != nil || r.Status != 200 {
		t.Fatalf("warm-up: %v %+v", err, r)
	}
	g.armed.Store(true)
	first := make(chan admResponse, 1)
	go func() {
		r, _ := fed.ask(fed.token, admQuery, nil)
		first <- r
	}()
	<-g.entered
	r, err := fed.ask(fed.token, admQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusTooManyRequests || r.Error == nil || r.Error.Code != string(coordinator.CodeQuotaExceeded) || r.RetryAfter == "" {
		t.Fatalf("alice's second query: HTTP %d Retry-After %q %+v, want 429 quota_exceeded with Retry-After", r.Status, r.RetryAfter, r.Error)
	}
	g.armed.Store(false)
	if r, err := fed.ask("bob-token", admQuery, nil); err != nil || r.Status != 200 {
		t.Fatalf("bob: %v HTTP %d %+v", err, r.Status, r.Error)
	}
	g.release()
	if r := <-first; r.Status != 200 {
		t.Errorf("alice's first: HTTP %d %+v", r.Status, r.Error)
	}
}

// TestPartialAnswer: site c hangs. Without allow_partial the query fails
// (abort-all); with it, and allowed, the answer comes from a and b and
// names c as missing with its reason; not allowed, it is refused.
func TestPartialAnswer(t *testing.T) {
	g := newGate()
	t.Cleanup(g.release)
	fed := startFederation(t, fedOptions{wrapEngine: g.wrap("c"), queryTimeout: 3 * time.Second,
		partial:  coordinator.PartialAnswers{Roles: []string{"analyst"}, Purposes: []string{"e2e test"}},
		analysts: map[string]string{"bob": "bob-token"}})
	full, err := fed.ask(fed.token, admQuery, nil)
	if err != nil || full.Status != 200 {
		t.Fatalf("warm-up: %v %+v", err, full)
	}
	g.armed.Store(true)

	r, err := fed.ask(fed.token, admQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusGatewayTimeout || r.Error == nil || r.Error.Site != "c" {
		t.Fatalf("without allow_partial: HTTP %d %+v, want 504 naming c", r.Status, r.Error)
	}

	r, err = fed.ask(fed.token, admQuery, map[string]any{"allow_partial": true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || !r.Partial {
		t.Fatalf("allow_partial: HTTP %d partial=%v %+v", r.Status, r.Partial, r.Error)
	}
	if len(r.Missing) != 1 || r.Missing[0].Site != "c" || r.Missing[0].Code != coordinator.CodeTimeout || r.Missing[0].Reason == "" {
		t.Errorf("missing %+v, want c with code timeout and a reason", r.Missing)
	}
	var answered []string
	for _, s := range r.Sites {
		answered = append(answered, s.Site)
	}
	if len(answered) != 2 || answered[0] != "a" || answered[1] != "b" {
		t.Errorf("answered by %v, want [a b]", answered)
	}
	if len(r.Rows) == 0 {
		t.Error("partial answer has no rows")
	}

	r, err = fed.ask(fed.token, admQuery, map[string]any{"allow_partial": true, "purpose": "other"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusForbidden || r.Error == nil || r.Error.Code != string(coordinator.CodeForbidden) {
		t.Errorf("allow_partial for a purpose not listed: HTTP %d %+v, want 403 forbidden", r.Status, r.Error)
	}
}

// TestPartialAnswerNotForRefusals: site b's policy refuses (its bundle
// fails to evaluate, which denies). Even with allow_partial, and allowed,
// the query fails naming b, as without it: an answer from a and c next to
// b's refusal would let the analyst learn from the difference.
func TestPartialAnswerNotForRefusals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "refusing")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rego := "package fedmesh\n\nimport rego.v1\n\nk = 1 if input.analyst.id == \"alice\"\n\nk = 2 if input.analyst.id == \"alice\"\n\n" +
		"default k := 10\n\ndecision := {\"allow\": true, \"reasons\": [\"conflict on purpose\"], \"obligations\": {\"min_group_size\": k}}\n"
	for name, body := range map[string]string{"policy.rego": rego, ".manifest": `{"revision": "refusing-1", "roots": ["fedmesh"]}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fed := startFederation(t, fedOptions{bundles: map[string]string{"b": dir},
		partial: coordinator.PartialAnswers{Roles: []string{"analyst"}}})
	r, err := fed.ask(fed.token, admQuery, map[string]any{"allow_partial": true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusForbidden || r.Error == nil || r.Error.Code != string(coordinator.CodePolicyDenied) || r.Error.Site != "b" || r.Partial || len(r.Rows) != 0 {
		t.Fatalf("allow_partial with a refusing site: HTTP %d partial=%v rows=%d %+v, want 403 policy_denied naming b and no rows", r.Status, r.Partial, len(r.Rows), r.Error)
	}
}
