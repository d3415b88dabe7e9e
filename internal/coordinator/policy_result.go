package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/policy"
)

// resultPolicySource builds the coordinator policy's bundle source from the
// config file: nil when none is configured.
func resultPolicySource(c *config.Policy, logger *slog.Logger) (policy.Source, time.Duration, error) {
	if c == nil {
		return nil, 0, nil
	}
	if c.Bundle == config.BuiltinDefaultBundle {
		return nil, 0, errors.New("policy.bundle: the built-in bundle is a site policy; give the coordinator its own bundle")
	}
	return c.Source(logger)
}

// openResultPolicy loads the optional coordinator policy and returns its
// reload task (nil when there is no policy or it is loaded once). A
// configured policy that does not load stops the coordinator: skipping it
// would answer queries its data officers meant to refuse.
func (c *Coordinator) openResultPolicy(ctx context.Context) (func(ctx context.Context) error, error) {
	src := c.cfg.ResultPolicy
	if src == nil {
		return nil, nil
	}
	p, err := src.Poll(ctx)
	if err != nil {
		return nil, fmt.Errorf("coordinator policy: %w", err)
	}
	c.resultPolicy = policy.NewHolder(p, c.cfg.Logger)
	c.log.Info("coordinator policy loaded", logkey.Bundle, src.String(), logkey.BundleRevision, p.Revision())
	poll := c.cfg.ResultPolicyPoll
	if poll <= 0 {
		return nil, nil
	}
	return func(ctx context.Context) error {
		return policy.Watch(ctx, c.resultPolicy, src, poll, c.cfg.Logger)
	}, nil
}

// checkResultPolicy evaluates the coordinator policy, if any, once every
// site has answered: the input is the query's plan as a site sees it (site
// "coordinator") plus input.result, the merged groups' row counts across
// sites. It is an extra layer over the sites' own policies, never a
// replacement. The decision record goes into rec.Details.
func (c *Coordinator) checkResultPolicy(ctx context.Context, q *planner.Query, plans map[string]*planner.SubPlan, results []flight.SiteResult, rec *audit.Record) error {
	if c.resultPolicy == nil || len(plans) == 0 {
		return nil
	}
	sites := make([]string, 0, len(plans))
	for s := range plans {
		sites = append(sites, s)
	}
	slices.Sort(sites)
	sp := *plans[sites[0]]
	sp.Site = "coordinator"
	in := policy.NewInput(&sp)
	var counts []int64
	if sp.Kind == planner.KindAggregate {
		var err error
		if counts, err = mergedGroupCounts(ctx, q.Merge.Keys, sp.CountColumn, results); err != nil {
			return &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeMergeFailed, Message: "count merged groups: " + err.Error()}
		}
	}
	in.Result = policy.NewResultInput(counts, sites)
	dec, err := c.resultPolicy.Evaluate(ctx, in)
	drec := dec.Record(in)
	if rec.Details == nil {
		rec.Details = map[string]any{}
	}
	rec.Details["coordinator_policy"] = &drec
	denied := func(reasons []string) error {
		return &QueryError{HTTPStatus: http.StatusForbidden, Code: CodePolicyDenied, Site: "coordinator",
			Message: "the coordinator's policy refused the merged result", Reasons: reasons}
	}
	switch {
	case err != nil:
		c.log.Error("coordinator policy evaluation failed; denying", logkey.QueryID, sp.QueryID, logkey.Err, err)
		return denied([]string{"fedmesh.policy_error: the coordinator could not evaluate its policy, so the result is withheld"})
	case !dec.Allow:
		return denied(dec.Reasons)
	}
	applied, err := dec.Obligations.CheckMerged(in.Result)
	drec.Applied = append(drec.Applied, applied...)
	if err != nil {
		return denied([]string{"fedmesh.coordinator_obligations: " + err.Error()})
	}
	return nil
}

// mergedGroupCounts sums the sites' COUNT(*) partials per merged group,
// grouping by typed key exactly as the merge of the answer does
// (merge.GroupCounts), so the policy judges the groups the analyst gets.
func mergedGroupCounts(ctx context.Context, keys []string, countCol string, results []flight.SiteResult) ([]int64, error) {
	parts := make([]merge.Partial, len(results))
	for i, r := range results {
		parts[i] = merge.Partial{Site: r.Site, Batches: r.Batches}
	}
	return merge.GroupCounts(ctx, keys, countCol, parts)
}
