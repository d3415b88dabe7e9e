package policy

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// DPObligation says that a sub-plan over a protected table may be answered
// only with differential privacy: the agent bounds each privacy unit's
// contribution in the engine SQL, clamps values, adds calibrated discrete
// Gaussian noise to every aggregate, releases a group only when its noisy
// count passes a threshold, and debits the analyst's budget in the site's
// ledger before anything leaves. The bundle decides these parameters; the
// agent enforces them and never exceeds them.
type DPObligation struct {
	// Table is the protected (logical) table the plan reads.
	Table string `json:"table"`
	// Unit is the privacy unit column of Table (e.g. customer_id): what one
	// person is. Contributions are bounded per distinct value of it.
	Unit string `json:"unit"`
	// MaxGroupsPerUnit bounds how many groups one unit may contribute to
	// (chosen at random among the unit's groups).
	MaxGroupsPerUnit int64 `json:"max_groups_per_unit"`
	// MaxRowsPerGroup bounds how many rows one unit may contribute to one
	// group (chosen at random).
	MaxRowsPerGroup int64 `json:"max_rows_per_group"`
	// Bounds clamps each row's value of a column before it is summed:
	// column → [lower, upper]. SUM, AVG and VAR need the bounds of their
	// column.
	Bounds map[string][2]float64 `json:"bounds"`
	// Epsilon and Delta are what this query may spend at this site, as an
	// (ε, δ)-DP guarantee for the whole sub-plan; the agent converts them to
	// zCDP ρ and charges ρ.
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
	// Budget is the analyst's budget at this site for this table.
	Budget DPBudget `json:"budget"`
}

// DPBudget limits what one analyst may spend at a site, per calendar (UTC)
// day, per month and in total. Limits are given either as ε at the budget's
// δ, or directly as zCDP ρ; 0 means no limit for that period, but at least
// one must be set.
type DPBudget struct {
	Delta        float64 `json:"delta,omitempty"`
	EpsilonDay   float64 `json:"epsilon_day,omitempty"`
	EpsilonMonth float64 `json:"epsilon_month,omitempty"`
	EpsilonTotal float64 `json:"epsilon_total,omitempty"`
	RhoDay       float64 `json:"rho_day,omitempty"`
	RhoMonth     float64 `json:"rho_month,omitempty"`
	RhoTotal     float64 `json:"rho_total,omitempty"`
}

// MaxDPDelta is the largest per-query or budget δ a bundle may grant: δ is
// the chance the guarantee fails outright, and must be far below 1/n for
// a table of n people.
const MaxDPDelta = 1e-3

// Validate reports every problem of o at once, each naming its field.
func (o *DPObligation) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("obligations.dp.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.Table == "" {
		bad("table", "must be set")
	}
	if o.Unit == "" {
		bad("unit", "must be set (the privacy unit column, e.g. customer_id)")
	}
	if o.MaxGroupsPerUnit < 1 {
		bad("max_groups_per_unit", "is %d, must be >= 1", o.MaxGroupsPerUnit)
	}
	if o.MaxRowsPerGroup < 1 {
		bad("max_rows_per_group", "is %d, must be >= 1", o.MaxRowsPerGroup)
	}
	for _, c := range slices.Sorted(maps.Keys(o.Bounds)) {
		b := o.Bounds[c]
		if !finite(b[0]) || !finite(b[1]) || b[0] > b[1] {
			bad("bounds."+c, "[%v, %v] must be finite with lower <= upper", b[0], b[1])
		}
	}
	if !(o.Epsilon > 0) || !finite(o.Epsilon) {
		bad("epsilon", "is %v, must be > 0", o.Epsilon)
	}
	if !(o.Delta > 0) || o.Delta > MaxDPDelta {
		bad("delta", "is %v, must be in (0, %v]", o.Delta, MaxDPDelta)
	}
	b := o.Budget
	eps := b.EpsilonDay > 0 || b.EpsilonMonth > 0 || b.EpsilonTotal > 0
	rho := b.RhoDay > 0 || b.RhoMonth > 0 || b.RhoTotal > 0
	switch {
	case !eps && !rho:
		bad("budget", "sets no limit; give epsilon_day/_month/_total (with delta) or rho_day/_month/_total")
	case eps && rho:
		bad("budget", "mixes epsilon and rho limits; use one kind")
	case eps && (!(b.Delta > 0) || b.Delta > MaxDPDelta):
		bad("budget.delta", "is %v, must be in (0, %v] when limits are given as epsilon", b.Delta, MaxDPDelta)
	}
	for name, v := range map[string]float64{"epsilon_day": b.EpsilonDay, "epsilon_month": b.EpsilonMonth,
		"epsilon_total": b.EpsilonTotal, "rho_day": b.RhoDay, "rho_month": b.RhoMonth, "rho_total": b.RhoTotal} {
		if v < 0 || !finite(v) {
			bad("budget."+name, "is %v, must be >= 0", v)
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// BoundsOf returns the clamp bounds declared for column (compared
// case-insensitively, qualified "table.column" or bare).
func (o *DPObligation) BoundsOf(column string) (lo, hi float64, ok bool) {
	want := strings.ToLower(column)
	_, bare, qualified := strings.Cut(want, ".")
	for c, b := range o.Bounds {
		lc := strings.ToLower(c)
		if lc == want || (qualified && lc == bare) {
			return b[0], b[1], true
		}
	}
	return 0, 0, false
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
