package flight

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/planner"
)

// explainingHandler serves nothing but explains: site a allows, site b
// denies, and it records the peer it was asked by.
type explainingHandler struct {
	handlerFunc
	site string
	peer chan spiffeid.ID
}

func (h explainingHandler) Explain(_ context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*ExplainResult, error) {
	h.peer <- peer
	if sp.Site != h.site {
		return nil, &PlanError{Site: h.site, Msg: "wrong site"}
	}
	return &ExplainResult{Site: h.site, Allow: h.site == "a", Reasons: []string{"because " + h.site},
		Obligations: json.RawMessage(`{"min_group_size":10}`), BundleRevision: "rev-" + h.site, EngineSQL: "SELECT 1"}, nil
}

func TestExplainActionOverMTLS(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	noServe := handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
		t.Error("explain ran the sub-plan")
		return nil, nil
	})
	peers := make(chan spiffeid.ID, 4)
	var targets []Target
	plans := map[string]*planner.SubPlan{}
	for _, site := range []string{"a", "b"} {
		srv := startServer(t, explainingHandler{handlerFunc: noServe, site: site, peer: peers}, pki.serverCreds(t, site, coordinatorID), time.Second)
		targets = append(targets, Target{Site: site, Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID(site))})
		plans[site] = livePlan(site)
	}
	// Site c serves sub-plans but cannot explain them.
	srvC := startServer(t, noServe, pki.serverCreds(t, "c", coordinatorID), time.Second)
	targets = append(targets, Target{Site: "c", Addr: srvC.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("c"))})
	plans["c"] = livePlan("c")
	client := newTestClient(t, targets)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := client.Explain(ctx, plans)
	if len(got) != 3 || got[0].Site != "a" || got[1].Site != "b" || got[2].Site != "c" {
		t.Fatalf("Explain = %+v, want sites a, b, c in order", got)
	}
	if !got[0].Allow || got[0].BundleRevision != "rev-a" || string(got[0].Obligations) != `{"min_group_size":10}` || got[0].EngineSQL != "SELECT 1" {
		t.Errorf("site a: %+v", got[0])
	}
	if got[1].Allow || got[1].Reasons[0] != "because b" || got[1].Error != "" {
		t.Errorf("site b: %+v", got[1])
	}
	if got[2].Error == "" || !strings.Contains(got[2].Error, "does not explain") {
		t.Errorf("site c (no Explainer): %+v, want an error saying it does not explain", got[2])
	}
	for range 2 {
		if p := <-peers; p != coordinatorID {
			t.Errorf("explain was asked by %s, want the coordinator's verified ID", p)
		}
	}
}
