package flight

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/planner"
)

// promptly bounds how long a failure may take to surface. Generous for a
// loaded 2-core machine under -race, far below the 30s query deadlines.
const promptly = 5 * time.Second

func TestFanOutFirstFailureCancelsOtherSites(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	aStarted := make(chan struct{})
	aCancelled := make(chan error, 1)
	handlers := map[string]Handler{
		// a works slowly: it only returns when its context ends.
		"a": handlerFunc(func(ctx context.Context, _ spiffeid.ID, _ *planner.SubPlan) (*Result, error) {
			close(aStarted)
			<-ctx.Done()
			aCancelled <- ctx.Err()
			return nil, ctx.Err()
		}),
		// b fails fast, but only once a is busy, so the test is deterministic.
		"b": handlerFunc(func(ctx context.Context, _ spiffeid.ID, _ *planner.SubPlan) (*Result, error) {
			select {
			case <-aStarted:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return nil, &PlanError{Site: "b", Msg: `unknown table "staff"`}
		}),
		"c": handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
			return &Result{Schema: resultSchema, Meta: ResultMeta{Site: "c"}}, nil
		}),
	}
	var targets []Target
	plans := map[string]*planner.SubPlan{}
	for site, h := range handlers {
		srv := startServer(t, h, pki.serverCreds(t, site, coordinatorID), time.Second)
		targets = append(targets, Target{Site: site, Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID(site))})
		plans[site] = livePlan(site)
	}
	client := newTestClient(t, targets)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	results, err := client.FanOut(ctx, plans)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("FanOut = %+v, want site b's error", results)
	}
	se := asSiteError(t, err)
	if se.Site != "b" || se.Code != codes.InvalidArgument {
		t.Errorf("FanOut error = %v (site %q, code %v), want site b's invalid plan, not a sibling's cancellation", err, se.Site, se.Code)
	}
	if elapsed > promptly {
		t.Errorf("FanOut took %v to report the failure, want under %v", elapsed, promptly)
	}
	select {
	case cerr := <-aCancelled:
		if !errors.Is(cerr, context.Canceled) {
			t.Errorf("site a's handler context ended with %v, want context.Canceled", cerr)
		}
	case <-time.After(promptly):
		t.Fatal("site a's handler never saw its context cancelled after site b failed")
	}
}

func TestFanOutDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		deadline func() time.Time // plan deadline
	}{
		{name: "context deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, deadline: func() time.Time { return time.Now().Add(time.Minute) }},
		{name: "plan deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, deadline: func() time.Time { return time.Now().Add(300 * time.Millisecond) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			siteDeadline := make(chan time.Time, 1)
			srv := startServer(t, handlerFunc(func(ctx context.Context, _ spiffeid.ID, _ *planner.SubPlan) (*Result, error) {
				d, _ := ctx.Deadline()
				siteDeadline <- d
				<-ctx.Done()
				return nil, ctx.Err()
			}), pki.serverCreds(t, "a", coordinatorID), time.Second)
			client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

			ctx, cancel := tt.ctx()
			defer cancel()
			sp := livePlan("a")
			sp.Deadline = tt.deadline()
			start := time.Now()
			_, err := client.FanOut(ctx, map[string]*planner.SubPlan{"a": sp})
			if se := asSiteError(t, err); se.Site != "a" || se.Code != codes.DeadlineExceeded {
				t.Errorf("FanOut error = %v (code %v), want site a deadline exceeded", err, se.Code)
			}
			if elapsed := time.Since(start); elapsed > promptly {
				t.Errorf("FanOut took %v, want about 300ms", elapsed)
			}
			select {
			case d := <-siteDeadline:
				if d.IsZero() || d.After(start.Add(time.Second)) {
					t.Errorf("site handler deadline = %v, want the coordinator's (~%v)", d, start.Add(300*time.Millisecond))
				}
			case <-time.After(promptly):
				t.Fatal("site handler was never called")
			}
		})
	}
}

func TestFanOutSiteKilledMidQuery(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	srv := startServer(t, handlerFunc(func(ctx context.Context, _ spiffeid.ID, _ *planner.SubPlan) (*Result, error) {
		close(started)
		select { // ignores its context: only a hard stop ends this stream
		case <-release:
		case <-time.After(30 * time.Second):
		}
		return nil, errors.New("released")
	}), pki.serverCreds(t, "a", coordinatorID), 100*time.Millisecond)
	okSrv := startServer(t, handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
		return &Result{Schema: resultSchema, Meta: ResultMeta{Site: "b"}}, nil
	}), pki.serverCreds(t, "b", coordinatorID), time.Second)
	client := newTestClient(t, []Target{
		{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))},
		{Site: "b", Addr: okSrv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("b"))},
	})

	go func() {
		select {
		case <-started:
			srv.stop() // graceful stop times out after 100ms, then Stop cuts the stream
		case <-time.After(promptly):
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := client.FanOut(ctx, map[string]*planner.SubPlan{"a": livePlan("a"), "b": livePlan("b")})
	se := asSiteError(t, err)
	if se.Site != "a" || se.Code != codes.Unavailable {
		t.Errorf("FanOut error = %v (site %q, code %v), want site a unavailable", err, se.Site, se.Code)
	}
	if elapsed := time.Since(start); elapsed > promptly {
		t.Errorf("FanOut took %v to notice the dead site, want under %v", elapsed, promptly)
	}
}

func TestFanOutRefusesBadPlansBeforeSending(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	called := make(chan string, 4)
	srv := startServer(t, handlerFunc(func(_ context.Context, _ spiffeid.ID, sp *planner.SubPlan) (*Result, error) {
		called <- sp.Site
		return &Result{Schema: resultSchema, Meta: ResultMeta{Site: "a"}}, nil
	}), pki.serverCreds(t, "a", coordinatorID), time.Second)
	client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

	badVersion := livePlan("a")
	badVersion.Version = 9
	tests := []struct {
		name     string
		plans    map[string]*planner.SubPlan
		wantSite string
		wantMsg  string
	}{
		{name: "unknown site", plans: map[string]*planner.SubPlan{"a": livePlan("a"), "z": livePlan("z")}, wantSite: "z",
			wantMsg: `site "z": invalid argument: no flight target is configured for this site`},
		{name: "plan addressed elsewhere", plans: map[string]*planner.SubPlan{"a": livePlan("b")}, wantSite: "a",
			wantMsg: `site "a": invalid argument: sub-plan is addressed to site "b"`},
		{name: "nil plan", plans: map[string]*planner.SubPlan{"a": nil}, wantSite: "a",
			wantMsg: `site "a": invalid argument: sub-plan is nil`},
		{name: "unencodable plan", plans: map[string]*planner.SubPlan{"a": badVersion}, wantSite: "a",
			wantMsg: `site "a": invalid argument: encode ticket: sub-plan version 9 not supported (want 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.FanOut(context.Background(), tt.plans)
			se := asSiteError(t, err)
			if se.Site != tt.wantSite || se.Error() != tt.wantMsg {
				t.Errorf("FanOut error = %q (site %q), want %q", se.Error(), se.Site, tt.wantMsg)
			}
		})
	}
	select {
	case site := <-called:
		t.Errorf("site handler ran for %q although the fan-out was refused", site)
	default:
	}
}
