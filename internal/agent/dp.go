package agent

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/policy"
	"github.com/fedmesh/fedmesh/privacy/dp"
	"github.com/fedmesh/fedmesh/privacy/ledger"
)

// budgetLedger is what the site needs of its privacy-budget ledger.
type budgetLedger interface {
	Debit(ctx context.Context, analyst, table, queryID string, rho float64, limits ledger.Limits, now time.Time) (ledger.Charge, error)
	Remaining(analyst string, limits ledger.Limits, now time.Time) (ledger.Remaining, error)
}

// dpQuery is a sub-plan prepared for a differentially private answer.
type dpQuery struct {
	plan   *policy.DPPlan
	limits ledger.Limits
	table  string
}

// prepareDP plans the differentially private answer the policy's DP
// obligation requires: the charge in zCDP ρ (half of the query's δ goes to
// converting its ε, half to the release threshold), the noisy columns and
// the analyst's limits. A plan that cannot be bounded is refused naming why.
func (h *handler) prepareDP(sp *planner.SubPlan, o *policy.DPObligation, rec *audit.Record) (*dpQuery, error) {
	deny := func(reason string) error {
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{reason}
		return &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	rho, err := dp.RhoFor(o.Epsilon, o.Delta/2)
	if err != nil {
		return nil, deny(fmt.Sprintf("fedmesh.dp: site %s cannot convert epsilon %v, delta %v to a charge: %v", h.site, o.Epsilon, o.Delta, err))
	}
	plan, err := policy.NewDPPlan(sp, o, rho, o.Delta/2)
	if err != nil {
		return nil, deny(fmt.Sprintf("fedmesh.dp: site %s, protected table %s: %v", h.site, o.Table, err))
	}
	plan.Salt = h.site + "\x00" + sp.QueryID
	limits, err := budgetLimits(o.Budget)
	if err != nil {
		return nil, deny(fmt.Sprintf("fedmesh.dp: site %s, protected table %s: budget: %v", h.site, o.Table, err))
	}
	return &dpQuery{plan: plan, limits: limits, table: o.Table}, nil
}

// budgetLimits converts a bundle's budget into ρ limits: ε limits at the
// budget's δ through the tight zCDP conversion (dp.RhoFor), ρ limits as
// they are.
func budgetLimits(b policy.DPBudget) (ledger.Limits, error) {
	if b.RhoDay > 0 || b.RhoMonth > 0 || b.RhoTotal > 0 {
		return ledger.Limits{Day: b.RhoDay, Month: b.RhoMonth, Total: b.RhoTotal}, nil
	}
	conv := func(eps float64) (float64, error) {
		if eps <= 0 {
			return 0, nil
		}
		return dp.RhoFor(eps, b.Delta)
	}
	var l ledger.Limits
	var err error
	if l.Day, err = conv(b.EpsilonDay); err != nil {
		return l, fmt.Errorf("epsilon_day: %w", err)
	}
	if l.Month, err = conv(b.EpsilonMonth); err != nil {
		return l, fmt.Errorf("epsilon_month: %w", err)
	}
	if l.Total, err = conv(b.EpsilonTotal); err != nil {
		return l, fmt.Errorf("epsilon_total: %w", err)
	}
	return l, nil
}

// renderDP renders sp with every unit's contribution bounded, over the
// site's physical names (the unit column is mapped like any other).
func (h *handler) renderDP(ctx context.Context, sp *planner.SubPlan, q *dpQuery, rec *audit.Record) (eng engineRun, err error) {
	e, dialect, choice, err := h.chooseEngine(ctx, sp)
	if err != nil {
		return engineRun{}, fmt.Errorf("site %q: %w", h.site, err)
	}
	// An engine error that depends on the data is a bit no noise covers.
	if err := policy.CheckDataErrors(sp, dialect.Name()); err != nil {
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{"fedmesh.data_error: " + err.Error()}
		return engineRun{}, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	probe := *sp
	probe.GroupBy = append(append([]planner.OutputColumn{}, sp.GroupBy...),
		planner.OutputColumn{Name: "fedmesh_unit_probe", Expr: planner.Col(q.plan.Bound.Unit)})
	psp, err := h.toPhysical(&probe)
	if err != nil {
		return engineRun{}, &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	bound := q.plan.Bound
	bound.Unit = psp.GroupBy[len(psp.GroupBy)-1].Expr.Column
	psp.GroupBy = psp.GroupBy[:len(psp.GroupBy)-1]
	sql, args, err := render.RenderBounded(psp, bound, dialect)
	if err != nil {
		return engineRun{}, &flight.PlanError{Site: h.site, Msg: err.Error()}
	}
	rec.Details["engine_sql"], rec.Details["engine"] = sql, dialect.Name()
	if choice != nil {
		rec.Details["engine_profile"] = choice
	}
	run := engineRun{engine: e, sql: sql, args: args}
	if staticTables(dialect.Name()) {
		// Sampling sorts every row by a random key; when no unit exceeds
		// the bounds it keeps every row anyway, so a cheap check decides
		// (runDP). Only over tables that do not change between the two
		// queries: files, not a live database.
		if run.checkSQL, run.checkArgs, err = render.RenderBoundCheck(psp, bound, dialect); err != nil {
			return engineRun{}, &flight.PlanError{Site: h.site, Msg: err.Error()}
		}
		if run.unsampledSQL, run.unsampledArgs, err = render.RenderBoundedUnsampled(psp, bound, dialect); err != nil {
			return engineRun{}, &flight.PlanError{Site: h.site, Msg: err.Error()}
		}
		run.maxRows, run.maxGroups = bound.MaxRows, bound.MaxGroups
	}
	return run, nil
}

// staticTables says whether a dialect's engine reads the site's tables from
// files that do not change under a query (DuckDB, Spark and Flink over the
// site's parquet/csv tables), unlike a live database.
func staticTables(dialect string) bool {
	return dialect == "duckdb" || dialect == "spark" || dialect == "flink"
}

// runDP runs the bounded query. With a bound check rendered, it first asks
// the engine for the most rows one unit has in a group and the most groups
// one unit is in; when neither exceeds the bounds, sampling would keep every
// row, so the unsampled query — the same answer without the random-order
// sorts — runs instead. The answer's distribution is the same either way.
func (h *handler) runDP(ctx context.Context, run engineRun, rec *audit.Record) (*arrow.Schema, []arrow.RecordBatch, error) {
	if run.checkSQL != "" {
		_, batches, err := h.run(ctx, run.engine, run.checkSQL, run.checkArgs)
		if err != nil {
			return nil, nil, err
		}
		within := boundsHold(batches, run.maxRows, run.maxGroups)
		release(batches)
		rec.Details["dp_sampled"] = !within
		if within {
			rec.Details["engine_sql"] = run.unsampledSQL
			return h.run(ctx, run.engine, run.unsampledSQL, run.unsampledArgs)
		}
	}
	return h.run(ctx, run.engine, run.sql, run.args)
}

// boundsHold reads the bound check's one row: true when max_rows <= rows
// and max_groups <= groups (NULL: no rows at all). Anything unreadable
// counts as exceeded, so the sampled query runs.
func boundsHold(batches []arrow.RecordBatch, rows, groups int64) bool {
	for _, b := range batches {
		if b.NumRows() == 0 {
			continue
		}
		for c, limit := range []int64{rows, groups} {
			v, err := policy.CellInt(b.Column(c), 0)
			if err != nil {
				return false
			}
			if v != nil && *v > limit {
				return false
			}
		}
		return true
	}
	return true
}

// debit charges the query to the analyst's budget, durably, before the
// engine runs; a charge is never refunded, whatever happens next. An
// exhausted budget is a refusal naming the budget and when it renews.
func (h *handler) debit(ctx context.Context, sp *planner.SubPlan, q *dpQuery, rec *audit.Record) (ledger.Charge, error) {
	if h.ledger == nil {
		rec.Decision, rec.Error = audit.DecisionError, "no privacy-budget ledger"
		return ledger.Charge{}, fmt.Errorf("site %q: differential privacy needs the site's budget ledger, and none is open; nothing is exported", h.site)
	}
	ch, err := h.ledger.Debit(ctx, sp.Analyst, q.table, sp.QueryID, q.plan.Rho, q.limits, time.Now())
	switch {
	case errors.Is(err, ledger.ErrBudgetExhausted):
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{fmt.Sprintf("fedmesh.dp_budget: site %s: %v", h.site, err)}
		return ch, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	case errors.Is(err, ledger.ErrDuplicateCharge):
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{replayReason(h.site, sp.QueryID)}
		return ch, &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	case err != nil:
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		return ch, fmt.Errorf("site %q: budget debit failed, nothing exported: %w", h.site, err)
	}
	return ch, nil
}

// dpDetails is the audit record's account of a DP answer: what was charged
// and what noise was added.
func dpDetails(q *dpQuery, ch ledger.Charge) map[string]any {
	return map[string]any{
		"table": q.table, "epsilon": q.plan.Epsilon, "delta": q.plan.Delta, "rho": q.plan.Rho,
		"threshold": q.plan.Threshold, "columns": q.plan.Columns, "charged_at": ch.At,
	}
}

// budgetLeft turns the ledger's view into the report's.
func budgetLeft(r ledger.Remaining) []policy.BudgetLeft {
	var out []policy.BudgetLeft
	for _, p := range []ledger.PeriodStatus{r.Day, r.Month, r.Total} {
		if p.Unlimited {
			continue
		}
		out = append(out, policy.BudgetLeft{Period: string(p.Period), Limit: p.Limit, Spent: p.Spent, Left: p.Left, Renews: p.Renews})
	}
	return out
}

// privacyMeta is the report that travels with the result.
func privacyMeta(q *dpQuery, ch ledger.Charge) (string, error) {
	rep := q.plan.Report(q.table, budgetLeft(ch.Remaining))
	b, err := json.Marshal(rep)
	if err != nil {
		return "", fmt.Errorf("encode privacy report: %w", err)
	}
	return string(b), nil
}
