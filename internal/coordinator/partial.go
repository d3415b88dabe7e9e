package coordinator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
)

// PartialAnswers lists who may ask for a partial answer (allow_partial):
// an analyst holding one of Roles, for one of Purposes (empty: any
// purpose). Empty Roles: nobody, the default; every query is then
// abort-all.
type PartialAnswers struct {
	Roles    []string
	Purposes []string
}

func (p PartialAnswers) allows(an Analyst, purpose string) bool {
	if !slices.ContainsFunc(an.Roles, func(r string) bool { return slices.Contains(p.Roles, r) }) {
		return false
	}
	return len(p.Purposes) == 0 || slices.Contains(p.Purposes, purpose)
}

// MissingSite is a site a partial answer lacks, and why.
type MissingSite struct {
	Site       string    `json:"site"`
	Code       ErrorCode `json:"code"` // site_busy, timeout or site_failed
	Reason     string    `json:"reason"`
	RetryAfter int       `json:"retry_after,omitempty"`
}

// checkPartial refuses allow_partial from an analyst the coordinator does
// not allow it for: asking for it explicitly and silently getting
// abort-all would surprise, and the refusal says what to do.
func (c *Coordinator) checkPartial(an Analyst, purpose string, opts QueryOptions) error {
	if !opts.AllowPartial || c.cfg.PartialAnswers.allows(an, purpose) {
		return nil
	}
	return &QueryError{HTTPStatus: http.StatusForbidden, Code: CodeForbidden,
		Message: fmt.Sprintf("analyst %q may not ask for partial answers for purpose %q (coordinator partial_answers); drop allow_partial or ask the coordinator's operator", an.ID, purpose)}
}

// partialEligible reports whether a site's failure may leave it out of a
// partial answer: only availability failures (busy, down, slow, broken).
// A policy refusal never may: an answer without the refusing site next to
// the refusal would let the analyst learn from the difference what the
// site's policy decided about its data, so the query fails as it would
// without allow_partial. Nor may a malformed plan or a wrong identity,
// which are not the site's availability.
func partialEligible(se *flight.SiteError) bool {
	if se.Denied {
		return false
	}
	switch se.Code {
	case codes.PermissionDenied, codes.InvalidArgument, codes.Unauthenticated:
		return false
	}
	return true
}

// partialMargin is the share of the query timeout kept back from the
// sites in a partial query, so the answer from the sites that succeeded
// can still be merged after a slow site's deadline.
const partialMargin = 10

// fanOut runs plans at their sites. Without allow_partial it is abort-all
// (flight.Client.FanOut). With it, every site runs to its own deadline;
// availability failures are returned as missing (and their sites removed
// from plans), any other failure, or every site failing, fails the query
// as abort-all would.
func (c *Coordinator) fanOut(ctx context.Context, plans map[string]*planner.SubPlan, opts QueryOptions, rec *audit.Record) ([]flight.SiteResult, []MissingSite, error) {
	if !opts.AllowPartial {
		results, err := c.client.FanOut(ctx, plans)
		if err != nil {
			return nil, nil, c.siteFailure(err, rec)
		}
		return results, nil, nil
	}
	margin := c.cfg.QueryTimeout / partialMargin
	for _, sp := range plans {
		if !sp.Deadline.IsZero() {
			sp.Deadline = sp.Deadline.Add(-margin)
		}
	}
	results, failed, err := c.client.FanOutEach(ctx, plans)
	if err != nil {
		return nil, nil, c.siteFailure(err, rec)
	}
	for _, se := range failed {
		if !partialEligible(se) || len(results) == 0 {
			for i := range results {
				results[i].Release()
			}
			return nil, nil, c.siteFailure(se, rec)
		}
	}
	var missing []MissingSite
	for _, se := range failed {
		m := MissingSite{Site: se.Site, Code: CodeSiteFailed, Reason: se.Error()}
		switch {
		case se.Busy:
			m.Code, m.RetryAfter = CodeSiteBusy, retrySeconds(se.RetryAfter)
		case se.Code == codes.DeadlineExceeded:
			m.Code = CodeTimeout
			m.Reason = fmt.Sprintf("site %q did not answer within the query's deadline (%s less %s kept to merge)", se.Site, c.cfg.QueryTimeout, margin.Round(time.Millisecond))
		}
		missing = append(missing, m)
		delete(plans, se.Site)
		rec.Sites = append(rec.Sites, audit.SiteOutcome{Site: se.Site, Status: audit.StatusFailed, Error: se.Error(), Head: c.siteHead(se.Site, se.AuditHead)})
	}
	if len(missing) > 0 {
		if rec.Details == nil {
			rec.Details = map[string]any{}
		}
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m.Site
		}
		rec.Details["partial_missing"] = strings.Join(names, ",")
	}
	return results, missing, nil
}
