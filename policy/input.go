package policy

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/fedmesh/fedmesh/planner"
)

// InputVersion is the version of the Input document. Bundles check it and
// deny inputs whose version they do not read.
const InputVersion = 1

// Plan kinds as they appear in PlanInput.Kind.
const (
	KindAggregate = string(planner.KindAggregate)
	KindRows      = string(planner.KindRows)
)

// Input is the document a bundle sees as `input`. It describes the sub-plan
// as structure (tables, columns and their use, group keys, aggregates,
// filter), never as SQL text. Its JSON form is the contract in README.md.
type Input struct {
	Version int       `json:"version"`
	Site    string    `json:"site"`
	QueryID string    `json:"query_id"`
	Analyst Analyst   `json:"analyst"`
	Purpose string    `json:"purpose"`
	Plan    PlanInput `json:"plan"`
	// Privacy is the analyst's per-query differential-privacy request
	// (zero: none; the bundle applies its defaults).
	Privacy PrivacyInput `json:"privacy"`
	// Result is set only for a coordinator policy (see ResultInput).
	Result *ResultInput `json:"result,omitempty"`
}

// Analyst is the authenticated analyst on whose behalf the query runs.
type Analyst struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles"`
	// RecentQueries is how many sub-plans this analyst sent to this site
	// within the agent's rate window, not counting this one. OPA's data
	// cannot count, so the agent does (see policy/library/rate_limit).
	RecentQueries int64 `json:"recent_queries"`
	// Verified is true when the site verified the analyst's signed
	// credential itself (ID and Roles then come from it); false when they
	// are only the coordinator's word.
	Verified bool `json:"verified"`
}

// PrivacyInput is what the analyst asked to spend on this query.
type PrivacyInput struct {
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
}

// PlanInput is the sub-plan as policy sees it.
type PlanInput struct {
	Kind       string              `json:"kind"` // "aggregate" | "rows"
	Tables     []string            `json:"tables"`
	Star       bool                `json:"star"`
	Columns    []planner.ColumnUse `json:"columns"`    // every (column, use) pair
	GroupBy    []string            `json:"group_by"`   // columns used in group keys
	Aggregates []AggregateInput    `json:"aggregates"` // partial aggregates, including the group-size COUNT(*)
	Filter     *planner.Expr       `json:"filter"`     // structured WHERE predicate, null when absent
}

// AggregateInput is one partial aggregate. Column is "*" for count_star and
// the column name when the argument is a bare column; when the argument is an
// expression, Column is empty and Arg holds the expression (its columns are
// also listed in PlanInput.Columns with use "aggregate_arg").
type AggregateInput struct {
	Function string        `json:"function"`
	Column   string        `json:"column"`
	Arg      *planner.Expr `json:"arg,omitempty"`
}

// NewInput derives the policy input from a sub-plan. Lists are never nil, so
// a bundle sees [] rather than null.
func NewInput(sp *planner.SubPlan) Input {
	in := Input{
		Version: InputVersion,
		Site:    sp.Site,
		QueryID: sp.QueryID,
		Analyst: Analyst{ID: sp.Analyst, Roles: append([]string{}, sp.Roles...)},
		Purpose: sp.Purpose,
		Plan: PlanInput{
			Kind:       string(sp.Kind),
			Tables:     []string{},
			Star:       sp.Star,
			Columns:    append([]planner.ColumnUse{}, sp.ColumnUses()...),
			GroupBy:    []string{},
			Aggregates: []AggregateInput{},
			Filter:     sp.Filter,
		},
	}
	if p := sp.Privacy; p != nil {
		in.Privacy = PrivacyInput{Epsilon: p.Epsilon, Delta: p.Delta}
	}
	if sp.Table != "" {
		in.Plan.Tables = append(in.Plan.Tables, sp.Table)
	}
	if sp.Join != nil {
		in.Plan.Tables = append(in.Plan.Tables, sp.Join.Table)
	}
	for _, g := range sp.GroupBy {
		in.Plan.GroupBy = g.Expr.Columns(in.Plan.GroupBy)
	}
	for _, a := range sp.Aggs {
		if a.Agg == nil {
			continue
		}
		ai := AggregateInput{Function: string(a.Agg.Func)}
		switch {
		case a.Agg.Func == planner.AggCountStar || a.Agg.Arg == nil:
			ai.Column = "*"
		case a.Agg.Arg.Op == planner.OpColumn:
			ai.Column = a.Agg.Arg.Column
		default:
			ai.Arg = a.Agg.Arg
		}
		in.Plan.Aggregates = append(in.Plan.Aggregates, ai)
	}
	return in
}

// astValue converts in to the value OPA evaluates, without a JSON round trip.
// It mirrors the JSON encoding of Input exactly (same keys, same omitempty
// behaviour), except that nil lists become []. It refuses an expression op
// it does not know, so that a new op cannot reach a policy that was never
// written for it.
func (in Input) astValue() (ast.Value, error) {
	filter, err := exprValue(in.Plan.Filter)
	if err != nil {
		return nil, fmt.Errorf("plan.filter: %w", err)
	}
	columns := make([]any, len(in.Plan.Columns))
	for i, c := range in.Plan.Columns {
		m := map[string]any{"table": c.Table, "column": c.Column, "use": c.Use}
		if c.Function != "" {
			m["function"] = string(c.Function)
		}
		columns[i] = m
	}
	aggs := make([]any, len(in.Plan.Aggregates))
	for i, a := range in.Plan.Aggregates {
		m := map[string]any{"function": a.Function, "column": a.Column}
		if a.Arg != nil {
			arg, err := exprValue(a.Arg)
			if err != nil {
				return nil, fmt.Errorf("plan.aggregates[%d].arg: %w", i, err)
			}
			m["arg"] = arg
		}
		aggs[i] = m
	}
	doc := map[string]any{
		"version":  in.Version,
		"site":     in.Site,
		"query_id": in.QueryID,
		"analyst": map[string]any{"id": in.Analyst.ID, "roles": nonNil(in.Analyst.Roles),
			"recent_queries": in.Analyst.RecentQueries, "verified": in.Analyst.Verified},
		"purpose": in.Purpose,
		"privacy": map[string]any{"epsilon": in.Privacy.Epsilon, "delta": in.Privacy.Delta},
		"plan": map[string]any{
			"kind":       in.Plan.Kind,
			"tables":     nonNil(in.Plan.Tables),
			"star":       in.Plan.Star,
			"columns":    columns,
			"group_by":   nonNil(in.Plan.GroupBy),
			"aggregates": aggs,
			"filter":     filter,
		},
	}
	if r := in.Result; r != nil {
		doc["result"] = map[string]any{"groups": r.Groups, "group_counts": r.GroupCounts,
			"min_group_count": r.MinGroupCount, "sites": nonNil(r.Sites)}
	}
	return ast.InterfaceToValue(doc)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// exprValue returns the JSON-shaped form of e: nil for a nil expression.
func exprValue(e *planner.Expr) (any, error) {
	if e == nil {
		return nil, nil
	}
	if !knownOp(e.Op) {
		return nil, fmt.Errorf("expression op %q is not known to the policy input builder", e.Op)
	}
	m := map[string]any{"op": string(e.Op)}
	if e.Column != "" {
		m["column"] = e.Column
	}
	if v := e.Value; v != nil {
		vm := map[string]any{"kind": string(v.Kind)}
		if v.Bool {
			vm["bool"] = true
		}
		if v.Int != 0 {
			vm["int"] = v.Int
		}
		if v.Float != 0 {
			vm["float"] = v.Float
		}
		if v.Str != "" {
			vm["str"] = v.Str
		}
		m["value"] = vm
	}
	if len(e.Args) > 0 {
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			av, err := exprValue(a)
			if err != nil {
				return nil, err
			}
			args[i] = av
		}
		m["args"] = args
	}
	return m, nil
}

func knownOp(op planner.Op) bool {
	switch op {
	case planner.OpColumn, planner.OpLiteral, planner.OpAnd, planner.OpOr, planner.OpNot,
		planner.OpEq, planner.OpNe, planner.OpLt, planner.OpLe, planner.OpGt, planner.OpGe,
		planner.OpIn, planner.OpNotIn, planner.OpBetween, planner.OpIsNull, planner.OpIsNotNull,
		planner.OpAdd, planner.OpSub, planner.OpMul, planner.OpDiv, planner.OpNeg,
		planner.OpCase, planner.OpCoalesce, planner.OpCast, planner.OpLike, planner.OpNotLike, planner.OpExtract, planner.OpDateTrunc:
		return true
	}
	return false
}
