package planner

import (
	"errors"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// truncUnits are the units of OpDateTrunc: those every supporting dialect
// truncates alike (weeks start on different days in different engines).
var truncUnits = map[string]bool{"year": true, "month": true, "day": true}

// errNoDateTrunc is wrapped when a dialect cannot truncate dates.
var errNoDateTrunc = errors.New("date_trunc is not available in this engine's dialect")

// truncUnit checks the unit operand of an OpDateTrunc node.
func truncUnit(e *Expr) (string, error) {
	if len(e.Args) != 2 {
		return "", fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
	}
	u := e.Args[0]
	if u == nil || u.Op != OpLiteral || u.Value == nil || u.Value.Kind != KindString || !truncUnits[u.Value.Str] {
		return "", errors.New("date_trunc: unit must be one of 'year', 'month', 'day'")
	}
	return u.Value.Str, nil
}

// mysqlTruncFormat is, per unit, the DATE_FORMAT pattern that keeps the
// unit and zeroes what is below it.
var mysqlTruncFormat = map[string]string{"year": "%Y-01-01", "month": "%Y-%m-01", "day": "%Y-%m-%d"}

// dateTrunc renders date_trunc(unit, x) as a TIMESTAMP (no time zone) of
// the start of x's year, month or day. Dialects differ:
//
//   - DuckDB: date_trunc returns a DATE for a DATE operand, so the result is
//     cast to TIMESTAMP.
//   - PostgreSQL: date_trunc over a DATE would go through timestamptz (and
//     the session time zone), so the operand is cast to TIMESTAMP first.
//   - Spark SQL: date_trunc('MONTH', x) returns a TIMESTAMP already.
//   - MySQL/MariaDB have no date_trunc: CAST(DATE_FORMAT(x, '%Y-%m-01') AS
//     DATETIME) computes the same instant.
//   - Flink SQL has no date_trunc (only FLOOR(x TO unit), whose result type
//     follows the operand's): refused at render time.
//
// The unit (a closed set) is bound like every other literal.
func (r *renderer) dateTrunc(e *Expr) error {
	unit, err := truncUnit(e)
	if err != nil {
		return err
	}
	arg := func() error { return r.expr(e.Args[1]) }
	switch r.d.Name() {
	case "duckdb":
		r.b.WriteString("CAST(date_trunc(")
		if err := r.param(unit); err != nil {
			return err
		}
		r.b.WriteString(", ")
		if err := arg(); err != nil {
			return err
		}
		r.b.WriteString(") AS TIMESTAMP)")
	case "postgres":
		r.b.WriteString("date_trunc(")
		if err := r.param(unit); err != nil {
			return err
		}
		r.b.WriteString(", CAST(")
		if err := arg(); err != nil {
			return err
		}
		r.b.WriteString(" AS TIMESTAMP))")
	case "spark":
		r.b.WriteString("date_trunc(")
		if err := r.param(strings.ToUpper(unit)); err != nil {
			return err
		}
		r.b.WriteString(", ")
		if err := arg(); err != nil {
			return err
		}
		r.b.WriteString(")")
	case "mysql":
		r.b.WriteString("CAST(DATE_FORMAT(")
		if err := arg(); err != nil {
			return err
		}
		r.b.WriteString(", ")
		if err := r.param(mysqlTruncFormat[unit]); err != nil {
			return err
		}
		r.b.WriteString(") AS DATETIME)")
	default:
		return fmt.Errorf("%w (%s); group or filter by EXTRACT(year/month/day FROM x) instead", errNoDateTrunc, r.d.Name())
	}
	return nil
}

// dateTrunc translates date_trunc('unit', x).
func (p *parser) dateTrunc(fc *pg_query.FuncCall, sc *scope) (*Expr, error) {
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
	if unit.Op == OpLiteral && unit.Value.Kind == KindString {
		unit.Value.Str = strings.ToLower(unit.Value.Str)
	}
	arg, err := p.expr(fc.Args[1], sc)
	if err != nil {
		return nil, err
	}
	e := Call(OpDateTrunc, unit, arg)
	if _, err := truncUnit(e); err != nil {
		return nil, p.refuse(fc.Location, "date_trunc unit", err.Error(), "write date_trunc('year'|'month'|'day', column)")
	}
	return e, nil
}
