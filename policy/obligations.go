package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// Obligation names one obligation: its key in a decision's obligations and
// the word a decision record lists in obligations_applied. One vocabulary,
// used by the agent, the coordinator and the audit log alike.
type Obligation string

// The obligations a decision may carry.
const (
	OblMinGroupSize     Obligation = "min_group_size"
	OblDenyColumns      Obligation = "deny_columns"
	OblMaxGroups        Obligation = "max_groups"
	OblRowFilter        Obligation = "row_filter"
	OblRoundTo          Obligation = "round_to"
	OblDP               Obligation = "dp"
	OblDifferenceCheck  Obligation = "difference_check"
	OblReportSuppressed Obligation = "report_suppressed"
)

// DifferenceCheck asks the site to refuse an exact export whose groups'
// sets of privacy units differ by 1..K-1 units from each other or from a
// set the same analyst got over the same tables earlier (privacy/guard).
// While the unit is known, the minimum group size counts distinct units
// rather than rows.
type DifferenceCheck struct {
	// Unit is the column that identifies the protected person (e.g.
	// customer_id) in the plan's table; in a join plan an unqualified name
	// is the left table's column.
	Unit string `json:"unit"`
	// K is the smallest difference, in units, two answers may have; 0
	// means the decision's min_group_size.
	K int64 `json:"k,omitempty"`
}

// SuppressedReport says how much a site tells about the groups it dropped.
type SuppressedReport string

// Ways to report suppressed groups. An exact count says that a rare group
// exists and, over several queries, how large it is; the others say less.
const (
	// ReportExact reports the number of dropped groups (the default when a
	// decision does not set report_suppressed).
	ReportExact SuppressedReport = "exact"
	// ReportCoarse reports the count rounded down to a power of ten
	// (0, 1, 10, 100, …): "at least".
	ReportCoarse SuppressedReport = "coarse"
	// ReportFlag reports only whether some group was dropped (0 or 1).
	ReportFlag SuppressedReport = "flag"
	// ReportNone reports nothing (always 0).
	ReportNone SuppressedReport = "none"
)

func (r SuppressedReport) valid() bool {
	switch r {
	case "", ReportExact, ReportCoarse, ReportFlag, ReportNone:
		return true
	}
	return false
}

// Mode is r with the default applied.
func (r SuppressedReport) Mode() SuppressedReport {
	if r == "" {
		return ReportExact
	}
	return r
}

// Reported is what may leave the site about n dropped groups.
func (r SuppressedReport) Reported(n int64) int64 {
	switch r.Mode() {
	case ReportNone:
		return 0
	case ReportFlag:
		return min(n, 1)
	case ReportCoarse:
		if n <= 0 {
			return 0
		}
		p := int64(1)
		for p <= n/10 {
			p *= 10
		}
		return p
	}
	return n
}

// DifferenceK is the k the difference check enforces: DifferenceCheck.K,
// or MinGroupSize when that is unset. 0 when there is no check.
func (o Obligations) DifferenceK() int64 {
	if o.DifferenceCheck == nil {
		return 0
	}
	if o.DifferenceCheck.K > 0 {
		return o.DifferenceCheck.K
	}
	return o.MinGroupSize
}

// ErrPlanInvalid is wrapped by ApplyToPlan when the plan, as the policy
// changed it or as it arrived, is not one the site can run (a plan error,
// not a policy refusal).
var ErrPlanInvalid = errors.New("sub-plan is invalid")

// RefusedError is an obligation refusing a plan or a result. Reason is
// shown to the analyst and audited; it never carries data values.
type RefusedError struct {
	Obligation Obligation
	Reason     string
	Err        error // the underlying cause, if any (e.g. a *guard.DifferenceError)
}

func (e *RefusedError) Error() string { return e.Reason }

// Unwrap returns the cause.
func (e *RefusedError) Unwrap() error { return e.Err }

// unitSetName is the name of the site-only unit_set partial ApplyToPlan adds.
const unitSetName = "__fedmesh_units"

// ApplyToPlan applies the obligations that act on an allowed sub-plan,
// before it is rendered, and returns the ones it applied:
//
//   - deny_columns is re-checked in Go (CheckPlan): a *DeniedColumnError,
//     joined per column;
//   - a rows plan under a minimum group size > 1 is refused (*RefusedError);
//   - row_filter is ANDed into sp.Filter;
//   - difference_check adds the site-only unit_set partial over the unit
//     column to an exact aggregate plan, so the site learns each group's
//     units (ApplyToResult reads and strips it).
//
// A plan that arrives with a unit_set partial, or that the row filter makes
// invalid, is refused with ErrPlanInvalid.
func ApplyToPlan(sp *planner.SubPlan, o Obligations) (applied []Obligation, err error) {
	for _, a := range sp.Aggs {
		if a.Agg != nil && a.Agg.Func == planner.AggUnitSet {
			return nil, fmt.Errorf("%w: partial %q is a site-only unit set; a coordinator never sends one", ErrPlanInvalid, a.Name)
		}
		if strings.HasPrefix(a.Name, "__fedmesh") {
			return nil, fmt.Errorf("%w: output name %q is reserved for the site's own partials", ErrPlanInvalid, a.Name)
		}
	}
	if len(o.DenyColumns) > 0 {
		applied = append(applied, OblDenyColumns)
	}
	if err := o.CheckPlan(sp); err != nil {
		return applied, err
	}
	if sp.Kind == planner.KindRows && o.MinGroupSize > 1 {
		return applied, &RefusedError{Obligation: OblMinGroupSize, Reason: fmt.Sprintf(
			"policy allows raw rows but requires groups of at least %d; a row export cannot meet that", o.MinGroupSize)}
	}
	if o.ApplyRowFilter(sp) {
		applied = append(applied, OblRowFilter)
		if err := sp.Validate(); err != nil {
			return applied, fmt.Errorf("%w: the policy's row filter made the sub-plan invalid: %v", ErrPlanInvalid, err)
		}
	}
	if sp.Kind == planner.KindAggregate && o.DP == nil && o.MinGroupSize > 1 {
		// The minimum group size also bounds the parts of a group that a
		// condition inside an aggregate picks out (conditions.go).
		if err := addConditionCounts(sp); err != nil {
			return applied, err
		}
	}
	if dc := o.DifferenceCheck; dc != nil && o.DP == nil && sp.Kind == planner.KindAggregate {
		unit := dc.Unit
		if sp.Join != nil && !strings.Contains(unit, ".") {
			unit = sp.Table + "." + unit
		}
		name := unitSetName
		for taken(sp, name) {
			name += "_"
		}
		sp.Aggs = append(sp.Aggs, planner.OutputColumn{Name: name, Agg: &planner.PartialAgg{Func: planner.AggUnitSet, Arg: planner.Col(unit)}})
		if err := sp.Validate(); err != nil {
			return applied, fmt.Errorf("%w: the difference check's unit %q: %v", ErrPlanInvalid, dc.Unit, err)
		}
	}
	return applied, nil
}

func taken(sp *planner.SubPlan, name string) bool {
	for _, o := range sp.Outputs() {
		if o.Name == name {
			return true
		}
	}
	return false
}

// DifferenceScope is the table-set key a difference check compares sets
// within: the plan's tables, sorted, joined by ",".
func DifferenceScope(sp *planner.SubPlan) string {
	if sp.Join == nil {
		return sp.Table
	}
	a, b := sp.Table, sp.Join.Table
	if b < a {
		a, b = b, a
	}
	return a + "," + b
}

// precision orders the report modes from most to least precise.
var precision = map[SuppressedReport]int{ReportExact: 0, ReportCoarse: 1, ReportFlag: 2, ReportNone: 3}

// CombineSuppressed combines the sites' reports about dropped groups into
// the answer's: the least precise site's mode decides what the total may
// say (an exact total would reveal a flagging site's count by subtraction
// from the others'). reported[i] is site i's value in modes[i] ("" is
// ReportExact; an unknown mode counts as ReportNone).
func CombineSuppressed(modes []SuppressedReport, reported []int64) (int64, SuppressedReport) {
	mode := ReportExact
	var sum int64
	for i, m := range modes {
		m = m.Mode()
		p, ok := precision[m]
		if !ok {
			m, p = ReportNone, precision[ReportNone]
		}
		if p > precision[mode] {
			mode = m
		}
		sum += reported[i]
	}
	switch mode {
	case ReportNone:
		return 0, mode
	case ReportFlag:
		return min(sum, 1), mode
	case ReportCoarse:
		return ReportCoarse.Reported(sum), mode
	}
	return sum, mode
}
