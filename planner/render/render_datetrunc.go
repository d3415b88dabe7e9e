package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// ErrNoDateTrunc is wrapped when a dialect cannot truncate dates.
var ErrNoDateTrunc = errors.New("date_trunc is not available in this engine's dialect")

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
func (r *renderer) dateTrunc(e *planner.Expr) error {
	unit, err := planner.TruncUnit(e)
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
		return fmt.Errorf("%w (%s); group or filter by EXTRACT(year/month/day FROM x) instead", ErrNoDateTrunc, r.d.Name())
	}
	return nil
}
