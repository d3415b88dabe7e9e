package planner

import (
	"fmt"
	"time"
)

// PlanVersion is the version of the SubPlan structure. A site refuses a
// sub-plan whose version it does not know.
const PlanVersion = 1

// Op names an expression node. The set is closed: renderers, the policy
// input builder and the merge evaluator each switch over it and reject any
// op they do not know, so a new op cannot slip through one layer unnoticed.
type Op string

// Expression ops.
const (
	OpColumn    Op = "column"      // Column names a column of the plan's table (or a merged output column)
	OpLiteral   Op = "literal"     // Value holds the constant
	OpAnd       Op = "and"         // Args: 2+ operands
	OpOr        Op = "or"          // Args: 2+ operands
	OpNot       Op = "not"         // Args: 1 operand
	OpEq        Op = "eq"          // Args: left, right
	OpNe        Op = "ne"          // Args: left, right
	OpLt        Op = "lt"          // Args: left, right
	OpLe        Op = "le"          // Args: left, right
	OpGt        Op = "gt"          // Args: left, right
	OpGe        Op = "ge"          // Args: left, right
	OpIn        Op = "in"          // Args: operand, then 1+ list items
	OpNotIn     Op = "not_in"      // Args: operand, then 1+ list items
	OpBetween   Op = "between"     // Args: operand, low, high (inclusive)
	OpIsNull    Op = "is_null"     // Args: 1 operand
	OpIsNotNull Op = "is_not_null" // Args: 1 operand
	OpAdd       Op = "add"         // Args: left, right (merge-side arithmetic over aggregates)
	OpSub       Op = "sub"         // Args: left, right
	OpMul       Op = "mul"         // Args: left, right
	OpDiv       Op = "div"         // Args: left, right
	OpNeg       Op = "neg"         // Args: 1 operand

	// Site-side scalar ops (see exprops.go for their exact semantics).
	OpCase     Op = "case"     // Args: when1, then1, when2, then2, ... [, else]
	OpCoalesce Op = "coalesce" // Args: 1+ operands
	OpCast     Op = "cast"     // Args: operand, string literal naming a CastType
	OpLike     Op = "like"     // Args: operand, string literal pattern (no backslash)
	OpNotLike  Op = "not_like" // Args: operand, string literal pattern (no backslash)
	OpExtract  Op = "extract"  // Args: string literal naming an ExtractField, operand; a BIGINT
	// OpDateTrunc truncates a date or timestamp to a unit; a TIMESTAMP.
	OpDateTrunc Op = "date_trunc" // Args: string literal naming a unit (year, month, day), operand
)

// ValueKind is the type of a literal.
type ValueKind string

// Literal kinds.
const (
	KindNull   ValueKind = "null"
	KindBool   ValueKind = "bool"
	KindInt    ValueKind = "int"
	KindFloat  ValueKind = "float"
	KindString ValueKind = "string"
)

// Value is a typed constant. Only the field matching Kind is meaningful.
type Value struct {
	Kind  ValueKind `json:"kind"`
	Bool  bool      `json:"bool,omitempty"`
	Int   int64     `json:"int,omitempty"`
	Float float64   `json:"float,omitempty"`
	Str   string    `json:"str,omitempty"`
}

// Any returns the Go value of v: nil, bool, int64, float64 or string.
func (v Value) Any() any {
	switch v.Kind {
	case KindBool:
		return v.Bool
	case KindInt:
		return v.Int
	case KindFloat:
		return v.Float
	case KindString:
		return v.Str
	default:
		return nil
	}
}

// Expr is a node of a scalar expression tree. Plans carry expressions as
// structure, never as SQL text: renderers turn them into engine SQL with
// quoted identifiers and bound parameters.
type Expr struct {
	Op     Op      `json:"op"`
	Column string  `json:"column,omitempty"` // OpColumn
	Value  *Value  `json:"value,omitempty"`  // OpLiteral
	Args   []*Expr `json:"args,omitempty"`
}

// Col is a column reference.
func Col(name string) *Expr { return &Expr{Op: OpColumn, Column: name} }

// Lit is a literal.
func Lit(v Value) *Expr { return &Expr{Op: OpLiteral, Value: &v} }

// Call builds an op node.
func Call(op Op, args ...*Expr) *Expr { return &Expr{Op: op, Args: args} }

// Columns appends to dst the distinct column names referenced by e, in
// first-seen order.
func (e *Expr) Columns(dst []string) []string {
	if e == nil {
		return dst
	}
	if e.Op == OpColumn {
		for _, c := range dst {
			if c == e.Column {
				return dst
			}
		}
		return append(dst, e.Column)
	}
	for _, a := range e.Args {
		dst = a.Columns(dst)
	}
	return dst
}

// AggFunc is a partial aggregate function computed at a site.
type AggFunc string

// Partial aggregate functions. AVG is never sent to a site: the planner
// splits it into SUM and COUNT so the merge is exact.
const (
	AggCountStar AggFunc = "count_star" // Arg is nil
	AggCount     AggFunc = "count"      // counts non-NULL values of Arg
	AggSum       AggFunc = "sum"
	AggMin       AggFunc = "min"
	AggMax       AggFunc = "max"
	// AggVarPop is the population variance of Arg at the site (NULL over no
	// values). With COUNT and SUM of the same argument it is the sufficient
	// statistic the coordinator merges variances from (see varAcc).
	AggVarPop AggFunc = "var_pop"

	// Sketch partials. No engine computes them: the site renders an inner
	// query grouped by the sketch argument as well, and folds its rows into
	// one serialized sketch per group in Go (see merge.FoldSketches). The column
	// is an Arrow Binary.
	//
	// AggHLL is a HyperLogLog sketch of Arg's non-NULL values (for
	// COUNT(DISTINCT x) and APPROX_COUNT_DISTINCT).
	AggHLL AggFunc = "hll"
	// AggQuantileSketch is a DDSketch of Arg's non-NULL values, read as
	// doubles (for percentile_cont and approx_quantile).
	AggQuantileSketch AggFunc = "quantile_sketch"
	// AggUnitSet is site-only: the set of privacy-unit ids (Arg, a unit
	// column such as customer_id) behind each group, folded into a bitmap
	// by the site for its difference check and its distinct-unit minimum
	// group size. Only the site's policy adds it (policy.ApplyToPlan), and
	// the site strips it before export (policy.ApplyToResult): it never
	// reaches the coordinator.
	AggUnitSet AggFunc = "unit_set"
)

// IsSketch reports whether f is computed by the site in Go as a sketch.
func (f AggFunc) IsSketch() bool {
	return f == AggHLL || f == AggQuantileSketch || f == AggUnitSet
}

// PlanKind says what a sub-plan asks a site to export.
type PlanKind string

// Plan kinds.
const (
	// KindAggregate exports one row per group: group keys and partial aggregates.
	KindAggregate PlanKind = "aggregate"
	// KindRows exports rows of the table (a projection without aggregates).
	// It exists so that a site's policy, not the planner, refuses raw-row
	// queries, and says why.
	KindRows PlanKind = "rows"
)

// OutputColumn is one column of a site's partial result.
type OutputColumn struct {
	Name string `json:"name"` // wire name of the partial column, e.g. "g0", "a1"
	// Exactly one of the following is set.
	Expr *Expr       `json:"expr,omitempty"` // group key or projected expression
	Agg  *PartialAgg `json:"agg,omitempty"`  // partial aggregate
}

// PartialAgg is an aggregate computed at a site.
type PartialAgg struct {
	Func AggFunc `json:"func"`
	Arg  *Expr   `json:"arg,omitempty"` // nil for count_star
}

// SubPlan is what one site is asked to compute: a partial aggregate (or a
// projection) over one logical table. It carries structure only, never SQL
// text. The wire form lives in package flight.
type SubPlan struct {
	Version  int       `json:"version"`
	QueryID  string    `json:"query_id"`
	Analyst  string    `json:"analyst"`
	Roles    []string  `json:"roles,omitempty"`
	Purpose  string    `json:"purpose,omitempty"`
	Deadline time.Time `json:"deadline"`
	Site     string    `json:"site"`
	// Credential is the analyst's signed credential (a JWT), forwarded
	// unchanged by the coordinator; a site verifies it itself and takes the
	// analyst and roles from it. Never logged or audited.
	Credential string `json:"-"`
	// Privacy is the analyst's per-query differential-privacy request (nil:
	// the site's default). A site's policy decides what it grants.
	Privacy *PrivacyRequest `json:"privacy,omitempty"`

	Kind  PlanKind `json:"kind"`
	Table string   `json:"table"` // logical table name
	// Join, when set, joins Table with a second table at the site; column
	// references are then qualified (see Join).
	Join *Join `json:"join,omitempty"`
	// Star is set for KindRows when the analyst asked for every column; the
	// planner has no catalog to expand it, and the site refuses or renders it.
	Star   bool   `json:"star,omitempty"`
	Filter *Expr  `json:"filter,omitempty"` // WHERE, nil when absent
	Limit  *int64 `json:"limit,omitempty"`  // only for KindRows

	// GroupBy holds the group keys (Expr set) in order. For KindAggregate the
	// site groups by these.
	GroupBy []OutputColumn `json:"group_by,omitempty"`
	// Aggs holds the partial aggregates (Agg set) for KindAggregate, or the
	// projected expressions (Expr set) for KindRows.
	Aggs []OutputColumn `json:"aggs,omitempty"`
	// CountColumn names the COUNT(*) partial in Aggs that measures each
	// group's size; every aggregate sub-plan has one, so the site can enforce
	// a minimum group size whatever the analyst asked for.
	CountColumn string `json:"count_column,omitempty"`
}

// PrivacyRequest is what an analyst asks of a differentially private
// answer: the ε (and δ) to spend at each site on this query. Zero fields mean
// the site's default; a site never grants more than its policy allows.
type PrivacyRequest struct {
	Epsilon float64 `json:"epsilon,omitempty"`
	Delta   float64 `json:"delta,omitempty"`
}

// Outputs returns the partial result's columns in wire order: group keys,
// then aggregates (or projections).
func (s *SubPlan) Outputs() []OutputColumn {
	out := make([]OutputColumn, 0, len(s.GroupBy)+len(s.Aggs))
	out = append(out, s.GroupBy...)
	return append(out, s.Aggs...)
}

// ColumnUse says how a sub-plan uses one column; policy input is built from it.
type ColumnUse struct {
	Table    string  `json:"table"`
	Column   string  `json:"column"`
	Use      string  `json:"use"`                // "group_key", "aggregate_arg", "filter", "projection"
	Function AggFunc `json:"function,omitempty"` // for aggregate_arg
}

// Column uses.
const (
	UseGroupKey     = "group_key"
	UseAggregateArg = "aggregate_arg"
	UseFilter       = "filter"
	UseProjection   = "projection"
)

// ColumnUses lists every (column, use) pair of the sub-plan once, in plan
// order. A star projection is reported as column "*".
func (s *SubPlan) ColumnUses() []ColumnUse {
	var out []ColumnUse
	seen := map[ColumnUse]bool{}
	add := func(e *Expr, use string, fn AggFunc) {
		for _, c := range e.Columns(nil) {
			u := ColumnUse{Table: s.Table, Column: c, Use: use, Function: fn}
			if t, col, ok := SplitQualified(c); ok && s.Join != nil {
				u.Table, u.Column = t, col
			}
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	for _, g := range s.GroupBy {
		add(g.Expr, UseGroupKey, "")
	}
	if s.Kind == KindRows && s.Star {
		u := ColumnUse{Table: s.Table, Column: "*", Use: UseProjection}
		seen[u] = true
		out = append(out, u)
	}
	for _, a := range s.Aggs {
		switch {
		case a.Agg != nil:
			add(a.Agg.Arg, UseAggregateArg, a.Agg.Func)
		case a.Expr != nil:
			add(a.Expr, UseProjection, "")
		}
	}
	add(s.Filter, UseFilter, "")
	if s.Join != nil {
		for _, k := range s.Join.Keys {
			add(Col(QualifiedColumn(s.Table, k.Left)), UseJoinKey, "")
			add(Col(QualifiedColumn(s.Join.Table, k.Right)), UseJoinKey, "")
		}
	}
	return out
}

// Validate checks the structural invariants a site relies on before it
// evaluates policy. It does not check that columns exist.
func (s *SubPlan) Validate() error {
	if s.Version != PlanVersion {
		return fmt.Errorf("sub-plan version %d is not supported (this site speaks version %d)", s.Version, PlanVersion)
	}
	if s.QueryID == "" {
		return fmt.Errorf("sub-plan: query_id must be set")
	}
	if s.Table == "" {
		return fmt.Errorf("sub-plan: table must be set")
	}
	switch s.Kind {
	case KindAggregate:
		if s.CountColumn == "" {
			return fmt.Errorf("sub-plan: aggregate plan has no count column")
		}
		found := false
		for _, a := range s.Aggs {
			if a.Agg == nil {
				return fmt.Errorf("sub-plan: aggregate output %q has no aggregate", a.Name)
			}
			if a.Name == s.CountColumn && a.Agg.Func == AggCountStar {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("sub-plan: count column %q is not a COUNT(*) output", s.CountColumn)
		}
		for _, g := range s.GroupBy {
			if g.Expr == nil {
				return fmt.Errorf("sub-plan: group key %q has no expression", g.Name)
			}
		}
		for _, a := range s.Aggs {
			if a.Agg.Func.IsSketch() && a.Agg.Arg == nil {
				return fmt.Errorf("sub-plan: sketch %q (%s) has no argument", a.Name, a.Agg.Func)
			}
		}
	case KindRows:
		if len(s.GroupBy) > 0 {
			return fmt.Errorf("sub-plan: rows plan cannot have group keys")
		}
		if !s.Star && len(s.Aggs) == 0 {
			return fmt.Errorf("sub-plan: rows plan projects nothing")
		}
	default:
		return fmt.Errorf("sub-plan: unknown kind %q", s.Kind)
	}
	if s.Join != nil {
		if err := s.validateJoin(); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for _, o := range s.Outputs() {
		if o.Name == "" || names[o.Name] {
			return fmt.Errorf("sub-plan: output name %q is empty or repeated", o.Name)
		}
		names[o.Name] = true
	}
	return nil
}

// Clone returns a copy of s that shares nothing mutable with it: a site
// applies its obligations (a row filter, a site-only partial) to the copy,
// never to the sub-plan it was handed.
func (s *SubPlan) Clone() *SubPlan {
	c := *s
	c.Roles = append([]string(nil), s.Roles...)
	if s.Privacy != nil {
		p := *s.Privacy
		c.Privacy = &p
	}
	if s.Limit != nil {
		l := *s.Limit
		c.Limit = &l
	}
	c.Join = s.Join.clone()
	c.Filter = s.Filter.Clone()
	cloneOutputs := func(in []OutputColumn) []OutputColumn {
		if in == nil {
			return nil
		}
		out := make([]OutputColumn, len(in))
		for i, o := range in {
			out[i] = OutputColumn{Name: o.Name, Expr: o.Expr.Clone()}
			if o.Agg != nil {
				out[i].Agg = &PartialAgg{Func: o.Agg.Func, Arg: o.Agg.Arg.Clone()}
			}
		}
		return out
	}
	c.GroupBy, c.Aggs = cloneOutputs(s.GroupBy), cloneOutputs(s.Aggs)
	return &c
}
