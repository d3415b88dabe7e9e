package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
	"github.com/fedmesh/fedmesh/privacy/guard"
)

// decide counts the query against the analyst's rate limit, evaluates the
// site's policy on sp and applies the obligations that change the plan
// (policy.ApplyToPlan). It fills the audit record's decision fields,
// including the decision record under rec.Details["policy"], and returns a
// *flight.DeniedError or *flight.PlanError when sp may not run.
func (h *handler) decide(ctx context.Context, sp *planner.SubPlan, rec *audit.Record, verified bool) (policy.Decision, *policy.DecisionRecord, error) {
	recent, err := h.countQuery(ctx, sp, rec)
	if err != nil {
		return policy.Decision{}, nil, err
	}
	return h.decideWith(ctx, sp, rec, recent, verified)
}

// countQuery counts sp against its analyst's queries: in the site's durable
// guard store when it has one (refusing over the site's rate limit, across
// restarts), in memory otherwise. It returns how many earlier queries of
// the analyst fall in the window, for input.analyst.recent_queries. The
// in-memory count is kept either way, for explain's dry runs.
func (h *handler) countQuery(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (int64, error) {
	now := time.Now()
	mem := h.rate.next(sp.Analyst, now)
	if h.guard == nil || sp.Analyst == "" {
		// Without an analyst there is no one to count against; the policy
		// decides on the anonymous request.
		return mem, nil
	}
	n, _, err := h.guard.Allow(ctx, sp.Analyst, now)
	var rl *guard.RateLimitError
	switch {
	case errors.As(err, &rl):
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{"fedmesh.rate_limit: " + err.Error()}
		rec.Details = map[string]any{"rate_limit": map[string]any{"limit": rl.Limit, "window": rl.Window.String()}}
		return 0, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	case err != nil:
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		h.log.Error("rate limit store failed; refusing", logkey.QueryID, sp.QueryID, logkey.Err, err)
		return 0, fmt.Errorf("site %q: the site could not record the query against its rate limit, so it does not run it", h.site)
	}
	return n - 1, nil
}

// decideWith is decide with the analyst's recent query count given.
func (h *handler) decideWith(ctx context.Context, sp *planner.SubPlan, rec *audit.Record, recent int64, verified bool) (policy.Decision, *policy.DecisionRecord, error) {
	in := policy.NewInput(sp)
	in.Analyst.RecentQueries = recent
	in.Analyst.Verified = verified
	dec, err := h.policy.Evaluate(ctx, in)
	drec := dec.Record(in)
	rec.BundleRevision, rec.DecisionID = dec.BundleRevision, dec.DecisionID
	if rec.Details == nil {
		rec.Details = map[string]any{}
	}
	rec.Details["policy"] = &drec
	if err != nil {
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		rec.Reasons = dec.Reasons
		if errors.Is(err, policy.ErrNoPolicy) {
			// The holder's reason says what to do: publish a verified bundle.
			return dec, &drec, &flight.DeniedError{Site: h.site, Reasons: dec.Reasons}
		}
		h.log.Error("policy evaluation failed; denying", logkey.QueryID, sp.QueryID, logkey.Err, err)
		return dec, &drec, &flight.DeniedError{Site: h.site, Reasons: []string{"policy evaluation failed at site " + h.site + "; nothing is exported until the site's policy evaluates"}}
	}
	if !dec.Allow {
		rec.Decision, rec.Reasons = audit.DecisionDeny, dec.Reasons
		return dec, &drec, &flight.DeniedError{Site: h.site, Reasons: dec.Reasons}
	}
	applied, err := policy.ApplyToPlan(sp, dec.Obligations)
	drec.Applied = append(drec.Applied, applied...)
	if err != nil {
		return dec, &drec, h.refuse(rec, err)
	}
	if dec.Obligations.DifferenceCheck != nil && dec.Obligations.DP == nil {
		switch {
		case h.guard == nil:
			return dec, &drec, h.refuse(rec, &policy.RefusedError{Obligation: policy.OblDifferenceCheck,
				Reason: "fedmesh.difference_check: the site's policy requires a difference check and site " + h.site + " keeps no guard store; nothing is exported (ask its operator to set state_dir)"})
		case sp.Analyst == "":
			return dec, &drec, h.refuse(rec, &policy.RefusedError{Obligation: policy.OblDifferenceCheck,
				Reason: "fedmesh.difference_check: answers are checked against the analyst's earlier ones, and this request names no analyst; sign in"})
		}
	}
	return dec, &drec, nil
}

// refuse turns an obligation's error into the audited refusal: a plan
// error when the plan is invalid, a policy denial otherwise.
func (h *handler) refuse(rec *audit.Record, err error) error {
	if errors.Is(err, policy.ErrPlanInvalid) {
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		return &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	rec.Decision, rec.Reasons = audit.DecisionDeny, []string{err.Error()}
	return &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
}
