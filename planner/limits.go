package planner

import "fmt"

// Limits on one sub-plan's size and shape. The coordinator refuses a query
// whose sub-plans break one (HTTP 400 plan_too_large) before it contacts any
// site, and every site refuses such a sub-plan again before policy or
// rendering (a hand-made ticket need not come from the coordinator's
// planner). They bound what one ticket can make a site parse, evaluate and
// render: a 20,000-term OR once kept a site's engine busy for 50 s.
//
// The encoded ticket is bounded separately by flight.MaxTicketSize.
const (
	// MaxExprDepth bounds the nesting of any expression (a column or a
	// literal alone has depth 1).
	MaxExprDepth = 64
	// MaxPlanNodes bounds the expression nodes of a whole sub-plan: filter,
	// group keys and aggregate arguments together.
	MaxPlanNodes = 5000
	// MaxGroupKeys bounds the GROUP BY keys of a sub-plan.
	MaxGroupKeys = 32
	// MaxAggregates bounds a sub-plan's partial aggregates (or projections).
	// AVG and the variances take two and three partials each.
	MaxAggregates = 256
	// MaxInList bounds the items of one IN / NOT IN list.
	MaxInList = 1000
	// MaxStringLiteral bounds one string literal, in bytes.
	MaxStringLiteral = 4096
)

// LimitError says which limit a sub-plan breaks and by how much. It carries
// the plan's sizes only, never a literal's value.
type LimitError struct {
	Limit string // the constant's name, e.g. "MaxInList"
	Value int    // what the plan has (for MaxExprDepth and MaxPlanNodes: at least this)
	Max   int    // the limit
	What  string // what was measured, e.g. "items in one IN list"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("plan too large: %d %s, over the limit %s = %d; simplify the query (fewer terms, shorter lists, or split it)", e.Value, e.What, e.Limit, e.Max)
}

// CheckLimits reports the first limit sp breaks, as a *LimitError, or nil.
// It stops walking as soon as a limit is broken, so a huge plan costs no
// more than the limits allow.
func CheckLimits(sp *SubPlan) error {
	if n := len(sp.GroupBy); n > MaxGroupKeys {
		return &LimitError{Limit: "MaxGroupKeys", Value: n, Max: MaxGroupKeys, What: "group keys"}
	}
	if n := len(sp.Aggs); n > MaxAggregates {
		return &LimitError{Limit: "MaxAggregates", Value: n, Max: MaxAggregates, What: "aggregates or projections"}
	}
	w := limitWalker{}
	for _, g := range sp.GroupBy {
		if err := w.walk(g.Expr, 1); err != nil {
			return err
		}
	}
	for _, a := range sp.Aggs {
		e := a.Expr
		if a.Agg != nil {
			e = a.Agg.Arg
		}
		if err := w.walk(e, 1); err != nil {
			return err
		}
	}
	return w.walk(sp.Filter, 1)
}

// limitWalker counts expression nodes across one plan.
type limitWalker struct{ nodes int }

func (w *limitWalker) walk(e *Expr, depth int) error {
	if e == nil {
		return nil
	}
	if depth > MaxExprDepth {
		return &LimitError{Limit: "MaxExprDepth", Value: depth, Max: MaxExprDepth, What: "levels of expression nesting"}
	}
	if w.nodes++; w.nodes > MaxPlanNodes {
		return &LimitError{Limit: "MaxPlanNodes", Value: w.nodes, Max: MaxPlanNodes, What: "expression nodes"}
	}
	if e.Value != nil && e.Value.Kind == KindString && len(e.Value.Str) > MaxStringLiteral {
		return &LimitError{Limit: "MaxStringLiteral", Value: len(e.Value.Str), Max: MaxStringLiteral, What: "bytes in one string literal"}
	}
	if (e.Op == OpIn || e.Op == OpNotIn) && len(e.Args)-1 > MaxInList {
		return &LimitError{Limit: "MaxInList", Value: len(e.Args) - 1, Max: MaxInList, What: "items in one IN list"}
	}
	for _, a := range e.Args {
		if err := w.walk(a, depth+1); err != nil {
			return err
		}
	}
	return nil
}
