package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

var _ flight.Explainer = (*handler)(nil)

// Explain implements flight.Explainer: it evaluates the site's policy on sp
// exactly as Serve would (same input, same checks, the row filter applied
// and the engine SQL rendered) but runs nothing and exports nothing. A dry
// run does not count towards the analyst's rate limit. It is audited like
// any evaluation, and a failed audit write fails the explain.
func (h *handler) Explain(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*flight.ExplainResult, error) {
	// Obligations change the plan (a row filter, site-only partials): on a
	// copy, never on the caller's.
	sp = sp.Clone()
	start := time.Now()
	rec := audit.Record{
		Component: audit.ComponentSiteAgent, Site: h.site, Event: audit.EventDecision, QueryID: sp.QueryID,
		Analyst: sp.Analyst, Roles: sp.Roles, Purpose: sp.Purpose, Peer: peer.String(),
		Details: map[string]any{"dry_run": true},
	}
	res, err := h.explain(ctx, sp, &rec)
	rec.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if _, _, aerr := h.audit.Append(context.WithoutCancel(ctx), rec); aerr != nil {
		return nil, fmt.Errorf("site %q: audit write failed: %w", h.site, aerr)
	}
	return res, err
}

func (h *handler) explain(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (*flight.ExplainResult, error) {
	if err := h.checkAddressed(sp); err != nil {
		rec.Decision, rec.Error = audit.DecisionError, err.Msg
		return nil, err
	}
	if err := h.admit(ctx, sp, rec, false); err != nil {
		return nil, err
	}
	verified, verr := h.verifyAnalyst(ctx, sp, rec)
	if verr != nil {
		var denied *flight.DeniedError
		if errors.As(verr, &denied) {
			return &flight.ExplainResult{Site: h.site, Allow: false, Reasons: denied.Reasons, Obligations: json.RawMessage("{}")}, nil
		}
		return nil, verr
	}
	dec, _, err := h.decideWith(ctx, sp, rec, h.rate.peek(sp.Analyst, time.Now()), verified)
	obl, merr := json.Marshal(dec.Obligations)
	if merr != nil {
		return nil, fmt.Errorf("site %q: encode obligations: %w", h.site, merr)
	}
	res := &flight.ExplainResult{
		Site: h.site, Allow: err == nil, Reasons: dec.Reasons, Obligations: obl,
		BundleRevision: dec.BundleRevision, DecisionID: dec.DecisionID,
	}
	if res.Reasons == nil {
		res.Reasons = []string{}
	}
	var denied *flight.DeniedError
	switch {
	case errors.As(err, &denied):
		res.Reasons = denied.Reasons
		if rec.Decision == "" {
			rec.Decision = audit.DecisionDeny
		}
		return res, nil
	case err != nil:
		return nil, err
	}
	rec.Decision, rec.Reasons = audit.DecisionAllow, dec.Reasons
	if o := dec.Obligations.DP; o != nil {
		return h.explainDP(ctx, sp, o, rec, res)
	}
	_, sql, _, err := h.render(ctx, sp, rec)
	if err != nil {
		return nil, err
	}
	res.EngineSQL = sql
	return res, nil
}

// explainDP says what a differentially private answer would charge, the
// noise it would add and the analyst's budget now, without charging it.
func (h *handler) explainDP(ctx context.Context, sp *planner.SubPlan, o *policy.DPObligation, rec *audit.Record, res *flight.ExplainResult) (*flight.ExplainResult, error) {
	q, err := h.prepareDP(sp, o, rec)
	var denied *flight.DeniedError
	if errors.As(err, &denied) {
		res.Allow, res.Reasons = false, denied.Reasons
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	run, err := h.renderDP(ctx, sp, q, rec)
	if err != nil {
		return nil, err
	}
	res.EngineSQL = run.sql
	var left []policy.BudgetLeft
	if h.ledger != nil {
		rem, err := h.ledger.Remaining(sp.Analyst, q.limits, time.Now())
		if err != nil {
			return nil, fmt.Errorf("site %q: read the analyst's budget: %w", h.site, err)
		}
		left = budgetLeft(rem)
	}
	// The noise a run would add: the plan's σ as ApplyDP computes it.
	if err := q.plan.Calibrate(); err != nil {
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	b, err := json.Marshal(q.plan.Report(q.table, left))
	if err != nil {
		return nil, fmt.Errorf("site %q: encode privacy report: %w", h.site, err)
	}
	res.Privacy = b
	return res, nil
}
