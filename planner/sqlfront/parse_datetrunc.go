package sqlfront

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// dateTrunc translates date_trunc('unit', x).
func (p *parser) dateTrunc(fc *pg_query.FuncCall, sc *scope) (*planner.Expr, error) {
	if !sc.site {
		return nil, p.refuse(fc.Location, "date_trunc in "+sc.clause, "date_trunc over aggregates is not supported",
			"use it in WHERE, GROUP BY or inside an aggregate")
	}
	if len(fc.Args) != 2 || fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil {
		return nil, p.refuse(fc.Location, "date_trunc", "date_trunc takes a unit and one value", "write date_trunc('month', column)")
	}
	unit, err := p.expr(fc.Args[0], sc)
	if err != nil {
		return nil, err
	}
	if unit.Op == planner.OpLiteral && unit.Value.Kind == planner.KindString {
		unit.Value.Str = strings.ToLower(unit.Value.Str)
	}
	arg, err := p.expr(fc.Args[1], sc)
	if err != nil {
		return nil, err
	}
	e := planner.Call(planner.OpDateTrunc, unit, arg)
	if _, err := planner.TruncUnit(e); err != nil {
		return nil, p.refuse(fc.Location, "date_trunc unit", err.Error(), "write date_trunc('year'|'month'|'day', column)")
	}
	return e, nil
}
