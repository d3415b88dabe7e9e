package flight

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/planner"
)

// livePlan is aggregatePlan addressed to site with a deadline in the future.
func livePlan(site string) *planner.SubPlan {
	sp := aggregatePlan()
	sp.Site = site
	sp.Deadline = time.Now().Add(time.Minute).UTC()
	return sp
}

func TestFanOutDeliversBatchesAndMeta(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())

	type call struct {
		peer spiffeid.ID
		plan *planner.SubPlan
	}
	var mu sync.Mutex
	calls := map[string]call{}
	handler := func(site string) Handler {
		return handlerFunc(func(_ context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*Result, error) {
			mu.Lock()
			calls[site] = call{peer: peer, plan: sp}
			mu.Unlock()
			return &Result{Schema: resultSchema, Batches: testBatches(mem), Meta: ResultMeta{
				Site: site, Rows: 999, SuppressedGroups: 3, BundleRevision: "rev-" + site, DecisionID: "dec-" + site,
			}}, nil
		})
	}
	var targets []Target
	plans := map[string]*planner.SubPlan{}
	for _, site := range []string{"b", "a"} {
		srv := startServer(t, handler(site), pki.serverCreds(t, site, coordinatorID), time.Second)
		targets = append(targets, Target{Site: site, Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID(site))})
		plans[site] = livePlan(site)
	}
	client := newTestClient(t, targets)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := client.FanOut(ctx, plans)
	if err != nil {
		t.Fatalf("FanOut: %v", err)
	}
	defer func() {
		for i := range results {
			results[i].Release()
		}
	}()

	wantRows := rowsOf(testBatches(memory.NewGoAllocator()))
	var gotSites []string
	for _, r := range results {
		gotSites = append(gotSites, r.Site)
		if diff := cmp.Diff(wantRows, rowsOf(r.Batches)); diff != "" {
			t.Errorf("site %s rows (-sent +received):\n%s", r.Site, diff)
		}
		wantMeta := ResultMeta{Site: r.Site, Rows: 5, SuppressedGroups: 3, BundleRevision: "rev-" + r.Site, DecisionID: "dec-" + r.Site}
		if diff := cmp.Diff(wantMeta, r.Meta); diff != "" {
			t.Errorf("site %s meta (-want +got):\n%s", r.Site, diff)
		}
		if !r.Schema.Equal(resultSchema) {
			t.Errorf("site %s schema = %s, want %s", r.Site, r.Schema, resultSchema)
		}
		if diff := cmp.Diff(map[string]string{"engine": "duckdb"}, r.Schema.Metadata().ToMap()); diff != "" {
			t.Errorf("site %s schema metadata (-want +got):\n%s", r.Site, diff)
		}
		if len(r.Batches) != 2 {
			t.Errorf("site %s: %d batches, want 2", r.Site, len(r.Batches))
		}
		mu.Lock()
		c := calls[r.Site]
		mu.Unlock()
		if c.peer != coordinatorID {
			t.Errorf("site %s handler saw peer %q, want the coordinator %q", r.Site, c.peer, coordinatorID)
		}
		if diff := cmp.Diff(plans[r.Site], c.plan); diff != "" {
			t.Errorf("site %s handler got a different plan (-sent +received):\n%s", r.Site, diff)
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, gotSites); diff != "" {
		t.Errorf("result order (-want +got):\n%s", diff)
	}
	waitFor(t, "servers to release every batch they streamed", func() bool { return mem.CurrentAlloc() == 0 })
}

func TestFanOutEmptyResultKeepsSchema(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	srv := startServer(t, handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
		return &Result{Schema: resultSchema, Meta: ResultMeta{Site: "a", SuppressedGroups: 4}}, nil
	}), pki.serverCreds(t, "a", coordinatorID), time.Second)
	client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

	results, err := client.FanOut(context.Background(), map[string]*planner.SubPlan{"a": livePlan("a")})
	if err != nil {
		t.Fatalf("FanOut: %v", err)
	}
	if len(results) != 1 || len(results[0].Batches) != 0 || !results[0].Schema.Equal(resultSchema) {
		t.Fatalf("results = %+v, want one site with the schema and no batches", results)
	}
	if diff := cmp.Diff(ResultMeta{Site: "a", SuppressedGroups: 4}, results[0].Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
}

func TestHandlerErrorsReachCoordinator(t *testing.T) {
	t.Parallel()
	denied := &DeniedError{Site: "a", Reasons: []string{`column "ssn" is denied by policy fedmesh.columns (rule deny_pii)`, "raw rows are not exported"}}
	tests := []struct {
		name        string
		err         error
		wantCode    codes.Code
		wantDenied  bool
		wantReasons []string
		wantMsg     string
		mustNotSay  string
	}{
		{name: "policy denial", err: denied, wantCode: codes.PermissionDenied, wantDenied: true, wantReasons: denied.Reasons,
			wantMsg: `site "a": policy denied: column "ssn" is denied by policy fedmesh.columns (rule deny_pii); raw rows are not exported`},
		{name: "wrapped policy denial", err: fmt.Errorf("evaluate policy: %w", denied), wantCode: codes.PermissionDenied, wantDenied: true, wantReasons: denied.Reasons,
			wantMsg: `site "a": policy denied: column "ssn" is denied by policy fedmesh.columns (rule deny_pii); raw rows are not exported`},
		{name: "denial without reasons", err: &DeniedError{Site: "a"}, wantCode: codes.PermissionDenied, wantDenied: true, wantReasons: []string{},
			wantMsg: `site "a": policy denied: no reason given`},
		{name: "malformed plan", err: &PlanError{Site: "a", Msg: `unknown op "regex_match"`}, wantCode: codes.InvalidArgument,
			wantMsg: `site "a": invalid argument: invalid sub-plan: unknown op "regex_match"`},
		{name: "engine failure hides values", err: errors.New(`duckdb: cannot cast "123-45-6789" to INTEGER`), wantCode: codes.Internal,
			wantMsg: `site "a": internal: site failed to serve query "q-123"; see the site agent's log`, mustNotSay: "123-45-6789"},
		{name: "site deadline", err: fmt.Errorf("query engine: %w", context.DeadlineExceeded), wantCode: codes.DeadlineExceeded,
			wantMsg: `site "a": deadline exceeded: query engine: context deadline exceeded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			srv := startServer(t, handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
				return nil, tt.err
			}), pki.serverCreds(t, "a", coordinatorID), time.Second)
			client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

			results, err := client.FanOut(context.Background(), map[string]*planner.SubPlan{"a": livePlan("a")})
			if err == nil {
				t.Fatalf("FanOut = %+v, want an error", results)
			}
			se := asSiteError(t, err)
			got := struct {
				Site    string
				Code    codes.Code
				Denied  bool
				Reasons []string
				Msg     string
			}{se.Site, se.Code, se.Denied, se.Reasons, se.Error()}
			want := got
			want.Site, want.Code, want.Denied, want.Reasons, want.Msg = "a", tt.wantCode, tt.wantDenied, tt.wantReasons, tt.wantMsg
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("site error (-want +got):\n%s", diff)
			}
			if tt.mustNotSay != "" && strings.Contains(err.Error(), tt.mustNotSay) {
				t.Errorf("coordinator error %q leaks %q", err, tt.mustNotSay)
			}
			if tt.mustNotSay != "" && !strings.Contains(srv.logs.String(), tt.mustNotSay) {
				t.Errorf("site log lacks the full error for the data officer:\n%s", srv.logs)
			}
		})
	}
}

func TestServerRejectsBadResults(t *testing.T) {
	t.Parallel()
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int32}}, nil)
	tests := []struct {
		name   string
		result func(memory.Allocator) *Result
	}{
		{name: "nil result", result: func(memory.Allocator) *Result { return nil }},
		{name: "no schema", result: func(mem memory.Allocator) *Result { return &Result{Batches: testBatches(mem)} }},
		{name: "batch schema differs", result: func(mem memory.Allocator) *Result { return &Result{Schema: other, Batches: testBatches(mem)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			srv := startServer(t, handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
				return tt.result(mem), nil
			}), pki.serverCreds(t, "a", coordinatorID), time.Second)
			client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

			_, err := client.FanOut(context.Background(), map[string]*planner.SubPlan{"a": livePlan("a")})
			if se := asSiteError(t, err); se.Code != codes.Internal || se.Site != "a" {
				t.Fatalf("FanOut error = %v (code %v), want an internal error from site a", err, se.Code)
			}
			waitFor(t, "the server to release the rejected batches", func() bool { return mem.CurrentAlloc() == 0 })
		})
	}
}

func TestFanOutRejectsResultLabelledForAnotherSite(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	srv := startServer(t, handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
		return &Result{Schema: resultSchema, Batches: testBatches(mem), Meta: ResultMeta{Site: "b"}}, nil
	}), pki.serverCreds(t, "a", coordinatorID), time.Second)
	client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

	_, err := client.FanOut(context.Background(), map[string]*planner.SubPlan{"a": livePlan("a")})
	se := asSiteError(t, err)
	if want := `site "a": data loss: result is labelled as coming from site "b"`; se.Error() != want || se.Code != codes.DataLoss {
		t.Errorf("FanOut error = %q (code %v), want %q", se.Error(), se.Code, want)
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = lis.Close()
	creds := pki.serverCreds(t, "a", coordinatorID)
	done := make(chan error, 1)
	go func() { done <- NewServer(handlerFunc(nil), nil).Serve(context.Background(), lis, creds) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "flight server on 127.0.0.1:") {
			t.Errorf("Serve on a closed listener = %v, want an error naming the address", err)
		}
	case <-time.After(promptly):
		t.Fatal("Serve kept running on a closed listener")
	}
}
