package coordinator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
)

// PolicyExplanation is every asked site's policy decision on its part of a
// query that was planned but not run.
type PolicyExplanation struct {
	QueryID string                 `json:"query_id"`
	Sites   []flight.ExplainResult `json:"sites"`
}

type policyExplainRequest struct {
	SQL     string   `json:"sql"`
	Purpose string   `json:"purpose"`
	Sites   []string `json:"sites,omitempty"` // only these sites; all participants when empty
	// Privacy is the per-query privacy request the dry run assumes.
	Privacy *planner.PrivacyRequest `json:"privacy,omitempty"`
}

func (q policyExplainRequest) sqlText() string { return q.SQL }

// PolicyExplain plans sql as Query would and asks each participating site
// (or only those in sites) for the decision its policy would make, without
// running anything anywhere. Each site evaluates its own policy on its own
// sub-plan; a site that cannot be asked is reported with its error. The
// dry run is audited here and at each site.
func (c *Coordinator) PolicyExplain(ctx context.Context, an Analyst, sql, purpose string, sites []string) (*PolicyExplanation, error) {
	return c.PolicyExplainWith(ctx, an, sql, purpose, sites, QueryOptions{})
}

// PolicyExplainWith is PolicyExplain with the analyst's per-query options
// (a privacy request), so that a site under differential privacy reports
// what this query would charge and the noise it would add.
func (c *Coordinator) PolicyExplainWith(ctx context.Context, an Analyst, sql, purpose string, sites []string, opts QueryOptions) (*PolicyExplanation, error) {
	q, names, _, err := c.plan(ctx, sql)
	if err != nil {
		return nil, err
	}
	all := c.siteNames()
	for _, s := range sites {
		if !slices.Contains(all, s) {
			return nil, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf("sites: unknown site %q (known: %s)", s, strings.Join(all, ", "))}
		}
	}
	if len(sites) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(sites, n) })
	}
	qid := newQueryID()
	deadline := time.Now().Add(c.cfg.QueryTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	meta := planner.SubPlanMeta{QueryID: qid, Analyst: an.ID, Roles: an.Roles, Purpose: purpose, Deadline: deadline}
	plans := map[string]*planner.SubPlan{}
	for _, sp := range planner.Split(q, names, meta) {
		sp.Credential, sp.Privacy = an.Credential, opts.Privacy
		plans[sp.Site] = sp
	}
	if err := checkLimits(plans); err != nil {
		return nil, err
	}
	ex := &PolicyExplanation{QueryID: qid, Sites: c.client.Explain(ctx, plans)}

	rec := audit.Record{Component: audit.ComponentCoordinator, Event: audit.EventQuery, QueryID: qid, Analyst: an.ID,
		Roles: an.Roles, Purpose: purpose, SQL: sql, Decision: audit.DecisionExplain, Details: map[string]any{"dry_run": true}}
	for _, s := range ex.Sites {
		status := audit.StatusDenied
		switch {
		case s.Error != "":
			status = audit.StatusFailed
		case s.Allow:
			status = audit.StatusAllowed
		}
		rec.Sites = append(rec.Sites, audit.SiteOutcome{Site: s.Site, Status: status, Reasons: s.Reasons, Error: s.Error, BundleRevision: s.BundleRevision})
	}
	if _, _, aerr := c.audit.Append(context.WithoutCancel(ctx), rec); aerr != nil {
		return nil, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeAuditFailed,
			Message: "the coordinator could not record the policy explain in its audit log", QueryID: qid}
	}
	return ex, nil
}
