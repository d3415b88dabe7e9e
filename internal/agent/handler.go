package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/admission"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/policy"
	"github.com/fedmesh/fedmesh/privacy/guard"
)

// handler runs one sub-plan through the site's pipeline.
type handler struct {
	site    string
	engine  enginebridge.Engine
	dialect render.Dialect
	policy  evaluator
	audit   *audit.Log
	timeout time.Duration
	slots   *admission.Queue // engine slots, fair across analysts
	log     *slog.Logger
	rate    rateCounter // requests per analyst, for input.analyst.recent_queries
	catalog planner.Catalog

	// verifier checks analysts' credentials (nil: the site has none and
	// takes the coordinator's word); requireCredential refuses sub-plans
	// without one.
	verifier          credentialVerifier
	requireCredential bool
	// ledger keeps analysts' privacy budgets; noise draws the DP noise.
	ledger budgetLedger
	noise  policy.NoiseSource
	// intake admits sub-plans: declared tables, size limits, deadline,
	// replay guard (intake.go).
	intake intake
	// guard is the site's durable exact-mode state (privacy/guard): the
	// difference-check window, the rate limit and the replay guard (the
	// same store as intake's). nil: the site keeps none, refuses
	// difference-checked plans and counts queries in memory only.
	guard *guard.Store
}

// engineRun is engine SQL ready to run.
type engineRun struct {
	engine enginebridge.Engine
	sql    string
	args   []any

	// A differentially private run may also carry a bound check and the
	// query without sampling (runDP), with the bounds they are checked
	// against.
	checkSQL, unsampledSQL   string
	checkArgs, unsampledArgs []any
	maxRows, maxGroups       int64
}

var _ flight.Handler = (*handler)(nil)

// Serve implements flight.Handler. Every outcome after the plan is decoded
// is audited; a failed audit write turns any outcome into an error with no
// export.
func (h *handler) Serve(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*flight.Result, error) {
	// Obligations change the plan (a row filter, site-only partials): on a
	// copy, never on the caller's.
	sp = sp.Clone()
	start := time.Now()
	rec := audit.Record{
		Component: audit.ComponentSiteAgent,
		Site:      h.site,
		Event:     audit.EventDecision,
		QueryID:   sp.QueryID,
		Analyst:   sp.Analyst,
		Roles:     sp.Roles,
		Purpose:   sp.Purpose,
		Peer:      peer.String(),
	}
	res, err := h.serve(ctx, sp, &rec)
	rec.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil && rec.Decision == "" {
		rec.Decision = audit.DecisionError
		rec.Error = err.Error()
	}
	// The record is written with a context that outlives the caller's: a
	// cancelled query still leaves its trace.
	stored, hash, aerr := h.audit.Append(context.WithoutCancel(ctx), rec)
	if aerr != nil {
		releaseAll(res)
		h.log.Error("audit write failed; nothing exported", logkey.QueryID, sp.QueryID, logkey.Err, aerr)
		return nil, fmt.Errorf("site %q: audit write failed, nothing exported: %w", h.site, aerr)
	}
	if err != nil {
		var denied *flight.DeniedError
		if errors.As(err, &denied) {
			denied.AuditHead = h.signedHead(stored.Seq, hash)
		}
		return nil, err
	}
	res.Meta.AuditHead = h.signedHead(stored.Seq, hash)
	return res, nil
}

func (h *handler) serve(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (*flight.Result, error) {
	if err := h.checkAddressed(sp); err != nil {
		return nil, err
	}
	if err := h.admit(ctx, sp, rec, true); err != nil {
		return nil, err
	}

	verified, err := h.verifyAnalyst(ctx, sp, rec)
	if err != nil {
		return nil, err
	}
	dec, drec, err := h.decide(ctx, sp, rec, verified)
	if err != nil {
		return nil, err
	}
	if o := dec.Obligations.DP; o != nil {
		return h.serveDP(ctx, sp, o, dec, drec, rec, verified)
	}

	eng, sql, args, err := h.render(ctx, sp, rec)
	if err != nil {
		return nil, err
	}

	done, err := h.acquire(ctx, sp, rec)
	if err != nil {
		return nil, err
	}
	defer done()
	qctx, cancel := h.queryContext(ctx, sp)
	defer cancel()
	schema, batches, err := h.run(qctx, eng, sql, args)
	if err != nil {
		return nil, h.engineFailed(qctx, sp, rec, err)
	}
	if sp.HasSketches() {
		// Sketches (and the unit sets of a difference check) are built
		// here, from the engine's subgroups, before obligations see the
		// groups; the subgroups never leave.
		fschema, folded, ferr := merge.FoldSketchesWith(qctx, sp, schema, batches, h.foldOptions())
		release(batches)
		if ferr != nil {
			return nil, fmt.Errorf("site %q: %w", h.site, ferr)
		}
		schema, batches = fschema, folded
	}

	env := policy.ResultEnv{Analyst: sp.Analyst, Now: time.Now()}
	if h.guard != nil {
		env.Differ = h.guard
	}
	schema, kept, rep, err := policy.ApplyToResult(qctx, schema, batches, sp, dec.Obligations, env)
	release(batches)
	drec.Applied = append(drec.Applied, rep.Applied...)
	if err != nil {
		var refused *policy.RefusedError
		if errors.As(err, &refused) {
			return nil, h.refuse(rec, err)
		}
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	rec.Event, rec.Decision = audit.EventExport, audit.DecisionAllow
	// The site's own audit keeps the exact count; only what the policy
	// allows (report_suppressed) leaves.
	rec.Rows, rec.SuppressedGroups = rep.Rows, rep.Suppressed
	if rep.UnitCounted {
		rec.Details["min_group_size_counts"] = "units"
	}
	return &flight.Result{
		Schema:  schema,
		Batches: kept,
		Meta: flight.ResultMeta{
			Site:             h.site,
			Rows:             rep.Rows,
			SuppressedGroups: rep.Reported,
			SuppressedReport: string(rep.Mode),
			BundleRevision:   dec.BundleRevision,
			DecisionID:       dec.DecisionID,
		},
	}, nil
}

// foldOptions hashes unit ids with the guard store's per-site key, so the
// unit sets of a difference check never hold raw ids.
func (h *handler) foldOptions() merge.FoldOptions {
	if h.guard == nil {
		return merge.FoldOptions{}
	}
	return merge.FoldOptions{UnitID: h.guard.UnitHasher().UnitID}
}

// engineFailed audits an engine error and returns one the analyst cannot
// tell from any other engine failure: the engine's message (which can
// depend on the data: which cast failed, on which value) stays in the
// site's audit record and log. A deadline or cancellation is reported as
// such.
func (h *handler) engineFailed(ctx context.Context, sp *planner.SubPlan, rec *audit.Record, err error) error {
	rec.Decision, rec.Error = audit.DecisionError, "engine: "+err.Error()
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("site %q: engine: %w", h.site, cerr)
	}
	h.log.Warn("engine failed", logkey.QueryID, sp.QueryID, logkey.Err, err)
	return fmt.Errorf("site %q: the engine could not run the sub-plan (query %s); its error is in the site's audit log", h.site, sp.QueryID)
}

// serveDP answers sp with differential privacy: plan the noise, render the
// bounded query, debit the analyst's budget durably, run, add noise and
// release groups by a noisy threshold. No exact count leaves: the number of
// groups not released is not reported.
func (h *handler) serveDP(ctx context.Context, sp *planner.SubPlan, o *policy.DPObligation, dec policy.Decision, drec *policy.DecisionRecord, rec *audit.Record, verified bool) (*flight.Result, error) {
	if !verified {
		// Budgets are per analyst: whatever the bundle says, the site does
		// not charge (or answer) a name it has not verified itself.
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{fmt.Sprintf(
			"fedmesh.dp_credential: table %s is protected by differential privacy at site %s and the analyst's credential was not verified by the site; sign in with the identity provider", o.Table, h.site)}
		return nil, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	q, err := h.prepareDP(sp, o, rec)
	if err != nil {
		return nil, err
	}
	run, err := h.renderDP(ctx, sp, q, rec)
	if err != nil {
		return nil, err
	}
	// The slot is taken before the budget is debited: a busy site
	// spends none of the analyst's budget.
	done, err := h.acquire(ctx, sp, rec)
	if err != nil {
		return nil, err
	}
	defer done()
	ch, err := h.debit(ctx, sp, q, rec)
	if err != nil {
		return nil, err
	}
	rec.Details["dp"] = dpDetails(q, ch)
	qctx, cancel := h.queryContext(ctx, sp)
	defer cancel()
	schema, batches, err := h.runDP(qctx, run, rec)
	if err != nil {
		return nil, h.engineFailed(qctx, sp, rec, err)
	}
	noisy, err := policy.ApplyDP(qctx, batches, q.plan, h.noise)
	release(batches)
	if err != nil {
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	schema = q.plan.OutputSchema(schema)
	meta, err := privacyMeta(q, ch)
	if err != nil {
		release(noisy)
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	drec.Applied = append(drec.Applied, policy.OblDP)
	var rows int64
	for _, b := range noisy {
		rows += b.NumRows()
	}
	rec.Event, rec.Decision, rec.Rows = audit.EventExport, audit.DecisionAllow, rows
	return &flight.Result{
		Schema:  schema,
		Batches: noisy,
		Meta: flight.ResultMeta{
			Site: h.site, Rows: rows, BundleRevision: dec.BundleRevision, DecisionID: dec.DecisionID, Privacy: meta,
			// Groups below the noisy threshold are not counted anywhere.
			SuppressedReport: string(policy.ReportNone),
		},
	}, nil
}

// checkAddressed validates sp's structure and that it is meant for this
// site; a run and an explain refuse the same plans.
func (h *handler) checkAddressed(sp *planner.SubPlan) *flight.PlanError {
	if err := sp.Validate(); err != nil {
		return &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	if sp.Site != h.site {
		return &flight.PlanError{Site: h.site, Msg: fmt.Sprintf("sub-plan is addressed to site %q, this is site %q", sp.Site, h.site)}
	}
	return nil
}

// render picks the engine for sp and renders its SQL over the site's
// physical names, recording both in rec. A run and an explain go through it
// alike, so an explain shows the SQL a run would execute.
func (h *handler) render(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (enginebridge.Engine, string, []any, error) {
	eng, dialect, choice, err := h.chooseEngine(ctx, sp)
	if err != nil {
		return nil, "", nil, fmt.Errorf("site %q: %w", h.site, err)
	}
	if err := policy.CheckDataErrors(sp, dialect.Name()); err != nil {
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{"fedmesh.data_error: " + err.Error()}
		return nil, "", nil, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	psp, err := h.toPhysical(sp)
	if err != nil {
		return nil, "", nil, &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	sql, args, err := render.Render(psp, dialect)
	if err != nil {
		return nil, "", nil, &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	rec.Details["engine_sql"], rec.Details["engine"] = sql, dialect.Name()
	if choice != nil {
		rec.Details["engine_profile"] = choice
	}
	return eng, sql, args, nil
}

// acquire waits in the site's fair queue for an engine slot. A full queue
// or the queue timeout answers busy (*flight.BusyError), recorded in rec.
func (h *handler) acquire(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (done func(), err error) {
	done, err = h.slots.Acquire(ctx, sp.Analyst)
	var busy *admission.BusyError
	switch {
	case err == nil:
		return done, nil
	case errors.As(err, &busy):
		rec.Decision, rec.Error = audit.DecisionError, "busy: "+string(busy.Reason)
		h.log.Warn("sub-plan not admitted", logkey.QueryID, sp.QueryID, logkey.Analyst, sp.Analyst, logkey.Err, err)
		return nil, &flight.BusyError{Site: h.site, Reason: string(busy.Reason), Msg: busy.Error(), RetryAfter: busy.RetryAfter}
	default:
		return nil, fmt.Errorf("site %q: %w", h.site, err)
	}
}

// queryContext bounds the engine's work by the site's own timeout and the
// analyst's deadline, whichever comes first.
func (h *handler) queryContext(ctx context.Context, sp *planner.SubPlan) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(h.timeout)
	if !sp.Deadline.IsZero() && sp.Deadline.Before(deadline) {
		deadline = sp.Deadline
	}
	return context.WithDeadline(ctx, deadline)
}

// run executes sql and collects the whole result: obligations such as the
// minimum group size and the audit record need all of it before any byte
// may leave the site.
func (h *handler) run(ctx context.Context, eng enginebridge.Engine, sql string, args []any) (*arrow.Schema, []arrow.RecordBatch, error) {
	rdr, err := eng.Query(ctx, sql, args)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var batches []arrow.RecordBatch
	for rdr.Next() {
		b := rdr.RecordBatch()
		b.Retain()
		batches = append(batches, b)
	}
	if err := rdr.Err(); err != nil {
		release(batches)
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		release(batches)
		return nil, nil, err
	}
	return rdr.Schema(), batches, nil
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

func releaseAll(r *flight.Result) {
	if r != nil {
		release(r.Batches)
	}
}
