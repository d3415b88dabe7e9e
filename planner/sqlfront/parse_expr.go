package sqlfront

import (
	"fmt"
	"math"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedmesh/fedmesh/planner"
)

// scope says how one clause resolves column names and aggregates.
type scope struct {
	clause string
	// column resolves a (qualifier-stripped) column name at loc.
	column func(name string, loc int32) (*planner.Expr, error)
	// aggregate translates an aggregate call; nil means aggregates are
	// refused in this clause.
	aggregate func(fc *pg_query.FuncCall, name string) (*planner.Expr, error)
	// arithmetic allows + - * / over non-literals.
	arithmetic bool
	// site marks a clause the sites compute (WHERE, group keys, aggregate
	// arguments): CASE, COALESCE, CAST and LIKE are allowed there, and
	// division only over doubles (see ProvablyFloat).
	site bool
	// groupKey, when set, resolves a whole subexpression that equals a
	// group key (merge-side clauses: "SELECT x + 1 ... GROUP BY x + 1").
	groupKey func(n *pg_query.Node) (*planner.Expr, bool)
}

func (p *parser) whereScope() *scope {
	return p.siteScope("WHERE")
}

// siteScope resolves columns of the table, for a clause the sites compute.
func (p *parser) siteScope(clause string) *scope {
	return &scope{clause: clause, arithmetic: true, site: true,
		column: func(name string, _ int32) (*planner.Expr, error) { return planner.Col(name), nil }}
}

var comparisonOps = map[string]planner.Op{"=": planner.OpEq, "<>": planner.OpNe, "!=": planner.OpNe, "<": planner.OpLt, "<=": planner.OpLe, ">": planner.OpGt, ">=": planner.OpGe}

var arithmeticOps = map[string]planner.Op{"+": planner.OpAdd, "-": planner.OpSub, "*": planner.OpMul, "/": planner.OpDiv}

// aggregateFuncs are the aggregate functions the planner can split.
var aggregateFuncs = map[string]bool{"count": true, "sum": true, "min": true, "max": true, "avg": true,
	"var_pop": true, "var_samp": true, "variance": true, "stddev_pop": true, "stddev_samp": true, "stddev": true,
	// Approximate, through sketches (sketch_parse.go); percentile_disc is
	// listed to be refused with a hint.
	"approx_count_distinct": true, "percentile_cont": true, "approx_quantile": true, "percentile_disc": true}

// varianceMerges maps variance aggregates (PostgreSQL's names; variance and
// stddev are the sample forms) to their merge function.
var varianceMerges = map[string]planner.MergeFunc{
	"var_pop": planner.MergeVarPop, "var_samp": planner.MergeVarSamp, "variance": planner.MergeVarSamp,
	"stddev_pop": planner.MergeStddevPop, "stddev_samp": planner.MergeStddevSamp, "stddev": planner.MergeStddevSamp,
}

// expr translates a scalar expression of the parse tree.
func (p *parser) expr(n *pg_query.Node, sc *scope) (*planner.Expr, error) {
	if sc.groupKey != nil {
		if e, ok := sc.groupKey(n); ok {
			return e, nil
		}
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_CaseExpr, *pg_query.Node_CoalesceExpr, *pg_query.Node_TypeCast:
		return p.scalarExpr(n, sc)
	case *pg_query.Node_ColumnRef:
		name, err := p.columnName(x.ColumnRef)
		if err != nil {
			return nil, err
		}
		return sc.column(name, x.ColumnRef.Location)
	case *pg_query.Node_AConst:
		v, err := p.constant(x.AConst)
		if err != nil {
			return nil, err
		}
		return planner.Lit(v), nil
	case *pg_query.Node_AExpr:
		return p.aExpr(x.AExpr, sc)
	case *pg_query.Node_BoolExpr:
		return p.boolExpr(x.BoolExpr, sc)
	case *pg_query.Node_NullTest:
		arg, err := p.expr(x.NullTest.Arg, sc)
		if err != nil {
			return nil, err
		}
		if x.NullTest.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL {
			return planner.Call(planner.OpIsNotNull, arg), nil
		}
		return planner.Call(planner.OpIsNull, arg), nil
	case *pg_query.Node_FuncCall:
		return p.funcCall(x.FuncCall, sc)
	default:
		c := constructName(n)
		return nil, p.refuse(nodeLoc(n), c, c+" is not supported in "+sc.clause,
			"use columns, literals, comparisons, AND/OR/NOT, IN, BETWEEN and IS NULL")
	}
}

// columnName returns the column a reference names, checking its qualifier.
func (p *parser) columnName(cr *pg_query.ColumnRef) (string, error) {
	var parts []string
	for _, f := range cr.Fields {
		s := f.GetString_()
		if s == nil {
			return "", p.refuse(cr.Location, "*", "* is only allowed as SELECT * or COUNT(*)", "name the columns")
		}
		parts = append(parts, s.Sval)
	}
	if p.join != nil {
		return p.joinColumn(parts, cr.Location)
	}
	switch len(parts) {
	case 1:
		return parts[0], nil
	case 2:
		if parts[0] != p.qualifier {
			return "", p.refuse(cr.Location, fmt.Sprintf("table %q", parts[0]),
				fmt.Sprintf("missing FROM-clause entry for table %q", parts[0]),
				fmt.Sprintf("qualify columns with %q or not at all", p.qualifier))
		}
		return parts[1], nil
	default:
		return "", p.refuse(cr.Location, "qualified column name", "column names may have at most one qualifier", "write table.column or column")
	}
}

func (p *parser) boolExpr(b *pg_query.BoolExpr, sc *scope) (*planner.Expr, error) {
	args := make([]*planner.Expr, 0, len(b.Args))
	for _, a := range b.Args {
		e, err := p.expr(a, sc)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	switch b.Boolop {
	case pg_query.BoolExprType_AND_EXPR:
		return planner.Call(planner.OpAnd, args...), nil
	case pg_query.BoolExprType_OR_EXPR:
		return planner.Call(planner.OpOr, args...), nil
	default:
		return planner.Call(planner.OpNot, args...), nil
	}
}

var refusedExprKinds = map[pg_query.A_Expr_Kind]string{
	pg_query.A_Expr_Kind_AEXPR_OP_ANY:          "ANY",
	pg_query.A_Expr_Kind_AEXPR_OP_ALL:          "ALL",
	pg_query.A_Expr_Kind_AEXPR_DISTINCT:        "IS DISTINCT FROM",
	pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:    "IS NOT DISTINCT FROM",
	pg_query.A_Expr_Kind_AEXPR_NULLIF:          "NULLIF",
	pg_query.A_Expr_Kind_AEXPR_ILIKE:           "ILIKE",
	pg_query.A_Expr_Kind_AEXPR_SIMILAR:         "SIMILAR TO",
	pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM:     "BETWEEN SYMMETRIC",
	pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM: "NOT BETWEEN SYMMETRIC",
}

func (p *parser) aExpr(a *pg_query.A_Expr, sc *scope) (*planner.Expr, error) {
	if name, ok := refusedExprKinds[a.Kind]; ok {
		return nil, p.refuse(a.Location, name, name+" is not supported", "use =, <>, <, <=, >, >=, IN, BETWEEN or IS NULL")
	}
	op := operatorName(a.Name)
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_IN:
		return p.inList(a, op, sc)
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		items := a.Rexpr.GetList().GetItems()
		if len(items) != 2 {
			return nil, p.refuse(a.Location, "BETWEEN", "BETWEEN needs a low and a high bound", "write x BETWEEN low AND high")
		}
		args, err := p.exprs(sc, a.Lexpr, items[0], items[1])
		if err != nil {
			return nil, err
		}
		e := planner.Call(planner.OpBetween, args...)
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN {
			e = planner.Call(planner.OpNot, e)
		}
		return e, nil
	case pg_query.A_Expr_Kind_AEXPR_LIKE:
		return p.like(a, op, sc)
	case pg_query.A_Expr_Kind_AEXPR_OP:
	default:
		return nil, p.refuse(a.Location, "operator", "this operator is not supported", "")
	}
	if a.Lexpr == nil {
		return p.unary(a, op, sc)
	}
	cmp, isCmp := comparisonOps[op]
	arith, isArith := arithmeticOps[op]
	switch {
	case isCmp:
	case isArith && sc.arithmetic:
		cmp = arith
	case isArith:
		return nil, p.refuse(a.Location, fmt.Sprintf("operator %q", op), "arithmetic is not supported in "+sc.clause,
			"compare columns with literals here; arithmetic over aggregates belongs in the select list or HAVING")
	default:
		return nil, p.refuse(a.Location, fmt.Sprintf("operator %q", op), "this operator is not supported",
			"use =, <>, <, <=, >, >=, and + - * / over aggregates")
	}
	args, err := p.exprs(sc, a.Lexpr, a.Rexpr)
	if err != nil {
		return nil, err
	}
	e := planner.Call(cmp, args...)
	if cmp == planner.OpDiv && sc.site && !planner.DivisionOK(e) {
		return nil, p.refuse(a.Location, "division", "division of a column in "+sc.clause+" needs operands of known type: PostgreSQL truncates integer division and other engines do not",
			"write CAST(x AS double precision) / y for a fraction, or CAST(x AS bigint) / y to truncate")
	}
	return e, nil
}

// unary handles prefix - and +. Negating a numeric literal folds into the
// literal, so "-(5)" is allowed even where arithmetic is not.
func (p *parser) unary(a *pg_query.A_Expr, op string, sc *scope) (*planner.Expr, error) {
	if op != "-" && op != "+" {
		return nil, p.refuse(a.Location, fmt.Sprintf("operator %q", op), "this prefix operator is not supported", "")
	}
	arg, err := p.expr(a.Rexpr, sc)
	if err != nil {
		return nil, err
	}
	if arg.Op == planner.OpLiteral && (arg.Value.Kind == planner.KindInt || arg.Value.Kind == planner.KindFloat) {
		if op == "+" {
			return arg, nil
		}
		v := *arg.Value
		if v.Kind == planner.KindInt {
			if v.Int == math.MinInt64 {
				return nil, p.refuse(a.Location, "integer literal", "integer is out of range", "use a value between -9223372036854775808 and 9223372036854775807")
			}
			v.Int = -v.Int
		} else {
			v.Float = -v.Float
		}
		return planner.Lit(v), nil
	}
	if !sc.arithmetic {
		return nil, p.refuse(a.Location, fmt.Sprintf("operator %q", op), "arithmetic is not supported in "+sc.clause, "compare columns with literals here")
	}
	if op == "+" {
		return arg, nil
	}
	return planner.Call(planner.OpNeg, arg), nil
}

// inList translates x [NOT] IN (literal, ...).
func (p *parser) inList(a *pg_query.A_Expr, op string, sc *scope) (*planner.Expr, error) {
	list := a.Rexpr.GetList()
	if list == nil || len(list.Items) == 0 {
		return nil, p.refuse(a.Location, "IN", "IN needs a list of literals", "write x IN (1, 2)")
	}
	operand, err := p.expr(a.Lexpr, sc)
	if err != nil {
		return nil, err
	}
	args := []*planner.Expr{operand}
	for _, item := range list.Items {
		e, err := p.expr(item, &scope{clause: "an IN list", column: func(_ string, loc int32) (*planner.Expr, error) {
			return nil, p.refuse(loc, "IN list item", "IN lists may contain only literals", "write x IN (1, 2)")
		}})
		if err != nil {
			return nil, err
		}
		if e.Op != planner.OpLiteral {
			return nil, p.refuse(nodeLoc(item), "IN list item", "IN lists may contain only literals", "write x IN (1, 2)")
		}
		args = append(args, e)
	}
	if op == "<>" {
		return planner.Call(planner.OpNotIn, args...), nil
	}
	return planner.Call(planner.OpIn, args...), nil
}

func (p *parser) exprs(sc *scope, nodes ...*pg_query.Node) ([]*planner.Expr, error) {
	out := make([]*planner.Expr, 0, len(nodes))
	for _, n := range nodes {
		e, err := p.expr(n, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func operatorName(name []*pg_query.Node) string {
	parts := make([]string, 0, len(name))
	for _, n := range name {
		parts = append(parts, n.GetString_().GetSval())
	}
	return strings.Join(parts, ".")
}

// funcCall checks a function call and hands aggregates to the scope.
func (p *parser) funcCall(fc *pg_query.FuncCall, sc *scope) (*planner.Expr, error) {
	name := operatorName(fc.Funcname)
	if fc.Over != nil {
		return nil, p.refuse(fc.Location, "window function", "window functions are not supported", "aggregate with GROUP BY instead")
	}
	switch name {
	case "pg_catalog.extract", "extract", "date_part":
		return p.extract(fc, sc)
	case "date_trunc":
		return p.dateTrunc(fc, sc)
	}
	if !aggregateFuncs[name] {
		return nil, p.refuse(fc.Location, fmt.Sprintf("function %s()", name), "this function is not supported",
			"only COUNT, SUM, MIN, MAX, AVG, VAR_POP/VAR_SAMP/VARIANCE, STDDEV_POP/STDDEV_SAMP/STDDEV, COUNT(DISTINCT)/APPROX_COUNT_DISTINCT and PERCENTILE_CONT/APPROX_QUANTILE can be used")
	}
	if sc.aggregate == nil {
		upper := strings.ToUpper(name)
		switch sc.clause {
		case "WHERE":
			return nil, p.refuse(fc.Location, upper+" in WHERE", "aggregate functions are not allowed in WHERE", "use HAVING to filter on aggregates")
		case "an aggregate argument":
			return nil, p.refuse(fc.Location, "nested aggregate", "aggregate function calls cannot be nested", "aggregate a column")
		default:
			return nil, p.refuse(fc.Location, upper+" in "+sc.clause, "aggregate functions are not allowed in "+sc.clause, "")
		}
	}
	return sc.aggregate(fc, name)
}

// hasAggregate reports whether any node under nodes calls an aggregate
// function outside a window, which makes the query an aggregate query.
func hasAggregate(nodes []*pg_query.Node) bool {
	found := false
	for _, n := range nodes {
		walkTree(n.ProtoReflect(), func(m protoreflect.Message) {
			if fc, ok := m.Interface().(*pg_query.FuncCall); ok && fc.Over == nil && aggregateFuncs[operatorName(fc.Funcname)] {
				found = true
			}
		})
	}
	return found
}

// walkTree calls fn on m and every message below it.
func walkTree(m protoreflect.Message, fn func(protoreflect.Message)) {
	fn(m)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkTree(l.Get(i).Message(), fn)
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			walkTree(v.Message(), fn)
		}
		return true
	})
}
