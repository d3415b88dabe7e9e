package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/policy"
)

// TestDPNeedsAVerifiedAnalyst: a bundle that asks for differential privacy
// without checking who asks still gets no answer for an analyst the site
// did not verify itself: budgets are per analyst, and the coordinator's
// word is not an analyst.
func TestDPNeedsAVerifiedAnalyst(t *testing.T) {
	t.Parallel()
	o := policy.Obligations{MinGroupSize: 1, DP: &policy.DPObligation{
		Table: "sales", Unit: "customer_id", MaxGroupsPerUnit: 1, MaxRowsPerGroup: 1,
		Bounds: map[string][2]float64{"amount": {0, 1000}}, Epsilon: 1, Delta: 1e-6,
		Budget: policy.DPBudget{RhoTotal: 1},
	}}
	h, _ := newTestHandler(t, fixedDecision{o})
	_, err := h.Serve(context.Background(), testCoordinator, salesByRegion())
	var denied *flight.DeniedError
	if !errors.As(err, &denied) || !strings.Contains(strings.Join(denied.Reasons, " "), "fedmesh.dp_credential") {
		t.Fatalf("err = %v, want a fedmesh.dp_credential denial", err)
	}
}
