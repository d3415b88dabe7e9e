package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/privacy/guard"
)

// A sub-plan reaches the site as a ticket anyone holding a coordinator's
// certificate can make by hand, so before policy or rendering the site
// checks what no policy should have to: the plan names only tables the site
// declares, stays within the planner's size limits (planner.CheckLimits),
// carries no Spark variable reference in a name, has a deadline within
// maxTicketLifetime, and — for a run — was never presented before.

// maxTicketLifetime is the furthest ahead a sub-plan's deadline may lie. The
// replay guard remembers a query id until its deadline, at most this long,
// so a ticket living longer could be replayed once forgotten.
const maxTicketLifetime = guard.DefaultTicketMaxTTL

// reasonReplay is the denial reason of a query id presented twice, whether
// the replay guard or the DP ledger's duplicate charge notices it.
const reasonReplay = "fedmesh.replay"

// ticketGuard remembers the query ids a site has served (privacy/guard).
type ticketGuard interface {
	// SeenTicket returns nil the first time queryID is presented (durably
	// recorded until expires), an error wrapping guard.ErrReplay after,
	// guard.ErrTicketExpired when expires is not after now, or another
	// error when the state cannot be made durable.
	SeenTicket(ctx context.Context, queryID string, expires, now time.Time) error
}

var _ ticketGuard = (*guard.Store)(nil)

// intake is the handler's state for admitting sub-plans.
type intake struct {
	// tables are the logical tables the site declares, sorted. A site
	// that declares none serves nothing: an engine's own catalog tables
	// (duckdb_columns, information_schema…) are never the federation's.
	tables []string
	// guard is the replay guard; nil refuses every run.
	guard ticketGuard
	// now is the clock (time.Now when nil).
	now func() time.Time
}

// admit checks sp before anything else looks at it; checkAddressed has
// validated its structure. consume records the query id in the replay
// guard: a run does, a dry run (explain) does not, so an explain and the
// run after it may share an id. It returns a *flight.PlanError, or a
// *flight.DeniedError for a replayed id, recording either in rec.
func (h *handler) admit(ctx context.Context, sp *planner.SubPlan, rec *audit.Record, consume bool) error {
	if perr := h.checkIntake(sp); perr != nil {
		rec.Decision, rec.Error = audit.DecisionError, perr.Error()
		return perr
	}
	if !consume {
		return nil
	}
	if h.intake.guard == nil {
		rec.Decision, rec.Error = audit.DecisionError, "no replay guard"
		return fmt.Errorf("site %q: no replay guard is open, so no sub-plan is served", h.site)
	}
	err := h.intake.guard.SeenTicket(ctx, sp.QueryID, sp.Deadline, h.clock())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, guard.ErrReplay):
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{replayReason(h.site, sp.QueryID)}
		return &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	case errors.Is(err, guard.ErrTicketExpired):
		perr := &flight.PlanError{Site: h.site, Msg: fmt.Sprintf("the sub-plan's deadline %s has passed", sp.Deadline.UTC().Format(time.RFC3339))}
		rec.Decision, rec.Error = audit.DecisionError, perr.Error()
		return perr
	default:
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		return fmt.Errorf("site %q: replay guard failed, nothing is served: %w", h.site, err)
	}
}

// replayReason is the denial reason of a query id this site saw before.
func replayReason(site, queryID string) string {
	return fmt.Sprintf("%s: site %s already received query %s; a query id is answered once, send a new query", reasonReplay, site, queryID)
}

// checkIntake is admit's stateless part.
func (h *handler) checkIntake(sp *planner.SubPlan) *flight.PlanError {
	bad := func(format string, args ...any) *flight.PlanError {
		return &flight.PlanError{Site: h.site, Msg: fmt.Sprintf(format, args...)}
	}
	if err := planner.CheckLimits(sp); err != nil {
		return bad("%v", err)
	}
	tables := []string{sp.Table}
	if sp.Join != nil {
		tables = append(tables, sp.Join.Table)
	}
	for _, t := range tables {
		if len(h.intake.tables) == 0 {
			return bad("table %q: this site declares no tables, so it serves none (list them under tables: in its config)", t)
		}
		if !slices.Contains(h.intake.tables, t) {
			return bad("table %q is not one of this site's tables (%s)", t, strings.Join(h.intake.tables, ", "))
		}
	}
	if name, ok := substitutable(sp); ok {
		return bad("name %q holds \"${\", which Spark would substitute before parsing; rename it", name)
	}
	now := h.clock()
	switch {
	case sp.Deadline.IsZero():
		return bad("the sub-plan has no deadline; a coordinator always sets one")
	case sp.Deadline.After(now.Add(maxTicketLifetime)):
		return bad("the sub-plan's deadline %s is more than %s ahead", sp.Deadline.UTC().Format(time.RFC3339), maxTicketLifetime)
	}
	return nil
}

// substitutable returns the first table, column or output name of sp
// holding "${": Spark substitutes ${var} and ${env:X} in the SQL text,
// quoted identifiers included, before it parses.
func substitutable(sp *planner.SubPlan) (string, bool) {
	names := []string{sp.Table}
	if sp.Join != nil {
		names = append(names, sp.Join.Table)
	}
	for _, u := range sp.ColumnUses() {
		names = append(names, u.Table, u.Column)
	}
	for _, o := range sp.Outputs() {
		names = append(names, o.Name)
	}
	for _, n := range names {
		if strings.Contains(n, "${") {
			return n, true
		}
	}
	return "", false
}

func (h *handler) clock() time.Time {
	if h.intake.now != nil {
		return h.intake.now()
	}
	return time.Now()
}
