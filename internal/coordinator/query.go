package coordinator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
	"github.com/fedmesh/fedmesh/policy"
)

// Answer is a federated query's result.
type Answer struct {
	QueryID          string         `json:"query_id"`
	Columns          []merge.Column `json:"columns"`
	Rows             [][]any        `json:"rows"`
	Sites            []SiteStatus   `json:"sites"`
	SuppressedGroups int64          `json:"suppressed_groups"`
	// SuppressedReport says what SuppressedGroups is: "exact", "coarse" (at
	// least, rounded down to a power of ten), "flag" (1: some group was
	// suppressed somewhere) or "none" (not reported) — the least precise
	// of the sites' reports (policy report_suppressed).
	SuppressedReport string `json:"suppressed_report,omitempty"`
	// Approximate names the columns that are sketch estimates and their
	// error bounds; absent when every value is exact.
	Approximate []merge.Approximation `json:"approximate,omitempty"`
	// Privacy is present when a site answered with differential privacy:
	// the noise per column and what each site charged.
	Privacy *PrivacyAnswer `json:"privacy,omitempty"`
	// Suppressed is set when every site withheld the only group of a
	// global aggregate (no GROUP BY): the one row's values are NULL because
	// they are unknown, not zero. Absent otherwise.
	Suppressed bool `json:"suppressed,omitempty"`
	// Partial is set when the answer lacks the Missing sites (only with
	// allow_partial); Missing names each with its reason.
	Partial bool          `json:"partial,omitempty"`
	Missing []MissingSite `json:"missing,omitempty"`
}

// SiteStatus is one site's part in an answer. It says how many groups the
// site suppressed, never which.
type SiteStatus struct {
	Site             string       `json:"site"`
	Status           audit.Status `json:"status"` // audit.StatusOK or audit.StatusNoTable
	Rows             int64        `json:"rows"`
	SuppressedGroups int64        `json:"suppressed_groups"`
	SuppressedReport string       `json:"suppressed_report,omitempty"`
	BundleRevision   string       `json:"bundle_revision,omitempty"`
	ElapsedMS        float64      `json:"elapsed_ms"`
}

// QueryOptions are an analyst's per-query requests.
type QueryOptions struct {
	// Privacy is forwarded to every site: the ε (δ) to spend on tables
	// under differential privacy. nil: each site's default.
	Privacy *planner.PrivacyRequest
	// AllowPartial asks for an answer from the sites that succeeded when
	// others are unavailable, if the coordinator's PartialAnswers allows
	// it for the analyst and purpose (partial.go).
	AllowPartial bool
}

// Query is QueryWith without options.
func (c *Coordinator) Query(ctx context.Context, an Analyst, sql, purpose string) (*Answer, error) {
	return c.QueryWith(ctx, an, sql, purpose, QueryOptions{})
}

// QueryWith plans sql, runs it at every site and merges the permitted
// partials. The coordinator's audit record is durable before the answer
// (or the error) is returned; if it cannot be written there is no answer.
func (c *Coordinator) QueryWith(ctx context.Context, an Analyst, sql, purpose string, opts QueryOptions) (*Answer, error) {
	qid := newQueryID()
	start := time.Now()
	rec := audit.Record{
		Component: audit.ComponentCoordinator,
		Event:     audit.EventQuery,
		QueryID:   qid,
		Analyst:   an.ID,
		Roles:     an.Roles,
		Purpose:   purpose,
		SQL:       sql,
	}
	var ans *Answer
	release, err := c.admitQuota(an)
	if err == nil {
		ans, err = c.query(ctx, qid, an, sql, purpose, opts, &rec)
		release()
	}
	rec.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	var qe *QueryError
	switch {
	case err == nil:
		rec.Decision, rec.Rows, rec.SuppressedGroups = audit.DecisionAllow, int64(len(ans.Rows)), ans.SuppressedGroups
	case errors.As(err, &qe):
		rec.Decision, rec.Reasons, rec.Error = audit.DecisionError, qe.Reasons, qe.Message
		if qe.Code == CodePolicyDenied {
			rec.Decision = audit.DecisionDeny
		}
		qe.QueryID = qid
	default:
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
	}
	if _, _, aerr := c.audit.Append(context.WithoutCancel(ctx), rec); aerr != nil {
		c.log.Error("audit write failed; withholding answer", logkey.QueryID, qid, logkey.Err, aerr)
		return nil, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeAuditFailed,
			Message: "the coordinator could not record the query in its audit log, so it gives no answer", QueryID: qid}
	}
	c.log.Info("query", logkey.QueryID, qid, logkey.Analyst, an.ID, logkey.Decision, rec.Decision, logkey.Rows, rec.Rows, logkey.DurationMS, rec.DurationMS)
	return ans, err
}

func (c *Coordinator) query(ctx context.Context, qid string, an Analyst, sql, purpose string, opts QueryOptions, rec *audit.Record) (*Answer, error) {
	if !dataQueryAllowed(an) {
		return nil, &QueryError{HTTPStatus: http.StatusForbidden, Code: CodeForbidden,
			Message: fmt.Sprintf("analyst %q holds only the auditor role, which reads the audit trail (/audit/) but runs no data queries; ask for an analyst role", an.ID)}
	}
	if err := c.checkPartial(an, purpose, opts); err != nil {
		return nil, err
	}
	q, names, lacking, err := c.plan(ctx, sql)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(c.cfg.QueryTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	meta := planner.SubPlanMeta{QueryID: qid, Analyst: an.ID, Roles: an.Roles, Purpose: purpose, Deadline: deadline}
	plans := map[string]*planner.SubPlan{}
	for _, sp := range planner.Split(q, names, meta) {
		// The analyst's own credential goes to every site, which verifies
		// it itself; the coordinator's word on who asks is not enough.
		sp.Credential, sp.Privacy = an.Credential, opts.Privacy
		plans[sp.Site] = sp
	}
	if err := checkLimits(plans); err != nil {
		return nil, err
	}

	results, missing, err := c.fanOut(ctx, plans, opts, rec)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range results {
			for _, b := range r.Batches {
				b.Release()
			}
		}
	}()

	ans := &Answer{QueryID: qid, Partial: len(missing) > 0, Missing: missing}
	parts := make([]merge.Partial, 0, len(results))
	modes := make([]policy.SuppressedReport, 0, len(results))
	reported := make([]int64, 0, len(results))
	for _, r := range results {
		parts = append(parts, merge.Partial{Site: r.Site, Batches: r.Batches})
		mode := policy.SuppressedReport(r.Meta.SuppressedReport).Mode()
		ans.Sites = append(ans.Sites, SiteStatus{
			Site: r.Site, Status: audit.StatusOK, Rows: r.Meta.Rows, SuppressedGroups: r.Meta.SuppressedGroups,
			SuppressedReport: string(mode), BundleRevision: r.Meta.BundleRevision, ElapsedMS: float64(r.Elapsed.Microseconds()) / 1000,
		})
		modes, reported = append(modes, mode), append(reported, r.Meta.SuppressedGroups)
		rec.Sites = append(rec.Sites, audit.SiteOutcome{Site: r.Site, Status: audit.StatusOK, Rows: r.Meta.Rows, SuppressedGroups: r.Meta.SuppressedGroups,
			BundleRevision: r.Meta.BundleRevision, Head: c.siteHead(r.Site, r.Meta.AuditHead)})
	}
	total, mode := policy.CombineSuppressed(modes, reported)
	ans.SuppressedGroups, ans.SuppressedReport = total, string(mode)
	if mode != policy.ReportExact {
		if rec.Details == nil {
			rec.Details = map[string]any{}
		}
		rec.Details["suppressed_report"] = string(mode)
	}
	if err := c.checkResultPolicy(ctx, q, plans, results, rec); err != nil {
		return nil, err
	}
	for _, s := range lacking {
		ans.Sites = append(ans.Sites, SiteStatus{Site: s, Status: audit.StatusNoTable})
		rec.Sites = append(rec.Sites, audit.SiteOutcome{Site: s, Status: audit.StatusNoTable})
	}
	reports, err := siteReports(results)
	if err != nil {
		return nil, &QueryError{HTTPStatus: http.StatusBadGateway, Code: CodeSiteFailed, Message: err.Error()}
	}
	mq, avgCounts, nHidden := q, map[string]string(nil), 0
	if reports != nil {
		mq, avgCounts, nHidden = withAverageCounts(q)
	}
	res, err := merge.Merge(ctx, mq, parts)
	if err != nil {
		return nil, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeMergeFailed, Message: err.Error()}
	}
	if reports != nil {
		hidden := stripHidden(res, nHidden)
		ans.Privacy = privacyAnswer(q, reports, res, avgCounts, hidden)
	}
	ans.Columns, ans.Rows, ans.Approximate = res.Columns, res.Rows, res.Approximate
	if ans.Rows == nil {
		ans.Rows = [][]any{}
	}
	withholdGlobal(q, results, ans)
	return ans, nil
}

// parse parses sql, turning a refusal into the analyst's parse_error with
// its position.
func parse(sql string) (*planner.Query, error) {
	q, err := sqlfront.Parse(sql)
	if err != nil {
		var pe *planner.Error
		if errors.As(err, &pe) {
			return nil, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeParseError, Message: pe.Error(), Position: pe.Pos}
		}
		return nil, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeParseError, Message: err.Error()}
	}
	return q, nil
}

// plan parses sql and picks the sites that take part, the same way for a
// run, an explain and a policy dry run: a filter on _site or a site's
// tables (its reported catalog, see siteTables) may leave sites out
// (lacking: sites without the table), a join must find both tables at
// every site that takes part, and an unknown table or column is refused.
func (c *Coordinator) plan(ctx context.Context, sql string) (q *planner.Query, participants, lacking []string, err error) {
	if q, err = parse(sql); err != nil {
		return nil, nil, nil, err
	}
	names := c.siteNames()
	c.ensureCatalogs(ctx, planner.Participants(q, names))
	if err := sqlfront.CheckJoinSites(q, names, c.siteHas); err != nil {
		return nil, nil, nil, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeParseError, Message: err.Error()}
	}
	participants, lacking = planner.ParticipantsByCatalog(q, names, c.siteHas)
	if err := c.checkCatalog(q, participants, lacking); err != nil {
		return nil, nil, nil, err
	}
	return q, participants, lacking, nil
}

func (c *Coordinator) siteNames() []string {
	names := make([]string, 0, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		names = append(names, s.Name)
	}
	return names
}

// siteFailure turns a fan-out error into what the analyst sees, naming the
// site that failed first.
func (c *Coordinator) siteFailure(err error, rec *audit.Record) error {
	if qe := planTooLarge(err); qe != nil {
		return qe
	}
	var se *flight.SiteError
	if !errors.As(err, &se) {
		return &QueryError{HTTPStatus: http.StatusBadGateway, Code: CodeSiteFailed, Message: err.Error()}
	}
	out := audit.SiteOutcome{Site: se.Site, Status: audit.StatusFailed, Reasons: se.Reasons, Error: se.Error(), Head: c.siteHead(se.Site, se.AuditHead)}
	qe := &QueryError{Site: se.Site, Reasons: se.Reasons}
	switch {
	case se.Denied:
		out.Status = audit.StatusDenied
		qe.HTTPStatus, qe.Code = http.StatusForbidden, CodePolicyDenied
		qe.Message = fmt.Sprintf("site %q refused the query", se.Site)
	case se.Busy:
		qe.HTTPStatus, qe.Code, qe.RetryAfter = http.StatusServiceUnavailable, CodeSiteBusy, retrySeconds(se.RetryAfter)
		qe.Message = fmt.Sprintf("%s; the other sites were cancelled; retry after %ds", se.Error(), qe.RetryAfter)
	case se.Code == codes.DeadlineExceeded:
		qe.HTTPStatus, qe.Code = http.StatusGatewayTimeout, CodeTimeout
		qe.Message = fmt.Sprintf("site %q did not answer before the query's deadline (%s); the other sites were cancelled", se.Site, c.cfg.QueryTimeout)
	default:
		qe.HTTPStatus, qe.Code = http.StatusBadGateway, CodeSiteFailed
		qe.Message = se.Error() + "; the other sites were cancelled"
	}
	rec.Sites = append(rec.Sites, out)
	return qe
}

// newQueryID returns a time-ordered id, so audit records sort by query.
func newQueryID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
