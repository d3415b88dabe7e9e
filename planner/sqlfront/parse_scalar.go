package sqlfront

import (
	"fmt"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// castAliases maps PostgreSQL type names (as pg_query reports them, schema
// stripped) to a CastType.
var castAliases = map[string]planner.CastType{
	"int8": planner.CastBigint, "bigint": planner.CastBigint,
	"int4": planner.CastInteger, "int": planner.CastInteger, "integer": planner.CastInteger, "int2": planner.CastInteger, "smallint": planner.CastInteger,
	"float8": planner.CastDouble, "float4": planner.CastDouble, "double precision": planner.CastDouble, "real": planner.CastDouble, "float": planner.CastDouble,
	"text": planner.CastText, "varchar": planner.CastText,
	"bool": planner.CastBoolean, "boolean": planner.CastBoolean,
	"date": planner.CastDate,
}

// scalarExpr translates CASE, COALESCE and CAST. They are computed at the
// sites (in WHERE, group keys and aggregate arguments); CASE and COALESCE
// also after the merge, over aggregates (merge/eval_case.go); CAST not yet.
func (p *parser) scalarExpr(n *pg_query.Node, sc *scope) (*planner.Expr, error) {
	c := constructName(n)
	if _, isCast := n.Node.(*pg_query.Node_TypeCast); !sc.site && isCast {
		return nil, p.refuse(nodeLoc(n), strings.ToUpper(c)+" in "+sc.clause, strings.ToUpper(c)+" over aggregates is not supported yet",
			"use it inside the aggregate (SUM(CASE ... END)) or in GROUP BY")
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_CaseExpr:
		return p.caseExpr(x.CaseExpr, sc)
	case *pg_query.Node_CoalesceExpr:
		args := make([]*planner.Expr, 0, len(x.CoalesceExpr.Args))
		for _, a := range x.CoalesceExpr.Args {
			e, err := p.expr(a, sc)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		return planner.Call(planner.OpCoalesce, args...), nil
	case *pg_query.Node_TypeCast:
		return p.typeCast(x.TypeCast, sc)
	}
	return nil, p.refuse(nodeLoc(n), c, c+" is not supported", "")
}

func (p *parser) caseExpr(ce *pg_query.CaseExpr, sc *scope) (*planner.Expr, error) {
	var operand *planner.Expr
	if ce.Arg != nil {
		e, err := p.expr(ce.Arg, sc)
		if err != nil {
			return nil, err
		}
		operand = e
	}
	var args []*planner.Expr
	for _, w := range ce.Args {
		cw := w.GetCaseWhen()
		if cw == nil {
			return nil, p.refuse(nodeLoc(w), "CASE", "malformed CASE branch", "")
		}
		cond, err := p.expr(cw.Expr, sc)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			// CASE x WHEN v: PostgreSQL compares x = v.
			cond = planner.Call(planner.OpEq, operand.Clone(), cond)
		}
		then, err := p.expr(cw.Result, sc)
		if err != nil {
			return nil, err
		}
		args = append(args, cond, then)
	}
	if ce.Defresult != nil {
		e, err := p.expr(ce.Defresult, sc)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return planner.Call(planner.OpCase, args...), nil
}

func (p *parser) typeCast(tc *pg_query.TypeCast, sc *scope) (*planner.Expr, error) {
	var parts []string
	for _, n := range tc.TypeName.GetNames() {
		if s := n.GetString_().GetSval(); s != "pg_catalog" {
			parts = append(parts, s)
		}
	}
	name := strings.Join(parts, ".")
	ct, ok := castAliases[name]
	if !ok || len(tc.TypeName.GetArrayBounds()) > 0 || len(tc.TypeName.GetTypmods()) > 0 {
		return nil, p.refuse(tc.Location, fmt.Sprintf("CAST to %s", name), "this cast target is not supported",
			"cast to bigint, integer, double precision, text or boolean")
	}
	arg, err := p.expr(tc.Arg, sc)
	if err != nil {
		return nil, err
	}
	if ct == planner.CastDate && arg.Op == planner.OpLiteral && arg.Value.Kind == planner.KindString {
		// Engines parse other date spellings differently; ISO dates alike.
		if _, err := time.Parse("2006-01-02", arg.Value.Str); err != nil {
			loc := tc.Location
			if loc < 0 {
				loc = nodeLoc(tc.Arg) // DATE '...' has no location of its own
			}
			return nil, p.refuse(loc, "date literal", fmt.Sprintf("date %q is not an ISO date", arg.Value.Str), "write DATE 'YYYY-MM-DD'")
		}
	}
	return planner.Call(planner.OpCast, arg, planner.Lit(planner.Value{Kind: planner.KindString, Str: string(ct)})), nil
}

// like translates x [NOT] LIKE 'pattern'.
func (p *parser) like(a *pg_query.A_Expr, op string, sc *scope) (*planner.Expr, error) {
	if !sc.site {
		return nil, p.refuse(a.Location, "LIKE in "+sc.clause, "LIKE is supported only in WHERE", "filter with LIKE in WHERE")
	}
	operand, err := p.expr(a.Lexpr, sc)
	if err != nil {
		return nil, err
	}
	pat, err := p.expr(a.Rexpr, sc)
	if err != nil {
		return nil, err
	}
	e := planner.Call(planner.OpLike, operand, pat)
	if op == "!~~" {
		e.Op = planner.OpNotLike
	}
	if err := planner.CheckLikePattern(e); err != nil {
		return nil, p.refuse(a.Location, "LIKE pattern", err.Error(), "write the pattern as a string literal without backslashes")
	}
	return e, nil
}

// extract translates EXTRACT(field FROM x) and date_part('field', x).
func (p *parser) extract(fc *pg_query.FuncCall, sc *scope) (*planner.Expr, error) {
	if !sc.site {
		return nil, p.refuse(fc.Location, "EXTRACT in "+sc.clause, "EXTRACT over aggregates is not supported",
			"use it in WHERE, GROUP BY or inside an aggregate")
	}
	if len(fc.Args) != 2 || fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil {
		return nil, p.refuse(fc.Location, "EXTRACT", "EXTRACT takes a field and one value", "write EXTRACT(year FROM column)")
	}
	field, err := p.expr(fc.Args[0], sc)
	if err != nil {
		return nil, err
	}
	if field.Op == planner.OpLiteral && field.Value.Kind == planner.KindString {
		field.Value.Str = strings.ToLower(field.Value.Str)
	}
	arg, err := p.expr(fc.Args[1], sc)
	if err != nil {
		return nil, err
	}
	e := planner.Call(planner.OpExtract, field, arg)
	if _, err := planner.ExtractField(e); err != nil {
		return nil, p.refuse(fc.Location, "EXTRACT field", err.Error(), "write EXTRACT(year FROM column)")
	}
	return e, nil
}
