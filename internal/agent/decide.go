package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// Obligation names as listed in a decision record's obligations_applied.
const (
	oblRowFilter    = "row_filter"
	oblDenyColumns  = "deny_columns"
	oblMinGroupSize = "min_group_size"
	oblMaxGroups    = "max_groups"
	oblRoundTo      = "round_to"
)

// decide evaluates the site's policy on sp and applies the obligations that
// change the plan: denied columns are re-checked in Go and the row filter is
// ANDed into sp.Filter, so the rendered engine SQL carries it. It fills the
// audit record's decision fields, including the decision record under
// rec.Details["policy"], and returns a *flight.DeniedError or
// *flight.PlanError when sp may not run.
func (h *handler) decide(ctx context.Context, sp *planner.SubPlan, rec *audit.Record, verified bool) (policy.Decision, *policy.DecisionRecord, error) {
	return h.decideWith(ctx, sp, rec, h.rate.next(sp.Analyst, time.Now()), verified)
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
	if len(dec.Obligations.DenyColumns) > 0 {
		drec.Applied = append(drec.Applied, oblDenyColumns)
	}
	if err := dec.Obligations.CheckPlan(sp); err != nil {
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{err.Error()}
		return dec, &drec, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	if sp.Kind == planner.KindRows && dec.Obligations.MinGroupSize > 1 {
		reason := fmt.Sprintf("policy allows raw rows but requires groups of at least %d; a row export cannot meet that", dec.Obligations.MinGroupSize)
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{reason}
		return dec, &drec, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	if dec.Obligations.ApplyRowFilter(sp) {
		drec.Applied = append(drec.Applied, oblRowFilter)
		if err := sp.Validate(); err != nil {
			rec.Decision, rec.Error = audit.DecisionError, err.Error()
			return dec, &drec, &flight.PlanError{Site: h.site, Msg: "the policy's row filter made the sub-plan invalid: " + err.Error()}
		}
	}
	return dec, &drec, nil
}

// roundResult applies the round_to obligation to an aggregate result, after
// small groups were dropped; it takes ownership of kept.
func (h *handler) roundResult(ctx context.Context, sp *planner.SubPlan, o policy.Obligations, kept []arrow.RecordBatch, drec *policy.DecisionRecord) ([]arrow.RecordBatch, error) {
	if sp.Kind != planner.KindAggregate {
		return kept, nil
	}
	if o.MinGroupSize > 1 {
		drec.Applied = append(drec.Applied, oblMinGroupSize)
	}
	if o.MaxGroups > 0 {
		drec.Applied = append(drec.Applied, oblMaxGroups)
	}
	if o.RoundTo <= 1 {
		return kept, nil
	}
	cols := make([]string, 0, len(sp.Aggs))
	for _, a := range sp.Aggs {
		cols = append(cols, a.Name)
	}
	out, err := policy.Round(ctx, kept, cols, o.RoundTo)
	release(kept)
	if err != nil {
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	drec.Applied = append(drec.Applied, oblRoundTo)
	return out, nil
}
