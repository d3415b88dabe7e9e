package render

import (
	"fmt"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// displayDialect writes expressions for people: PostgreSQL quoting only
// where needed, literals inline.
type displayDialect struct{}

func (displayDialect) Name() string { return "postgres" }

func (displayDialect) QuoteIdent(name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
		}
	}
	if plain {
		return name
	}
	return DuckDB{}.QuoteIdent(name)
}

func (displayDialect) Placeholder(int) string { return "?" }

func (displayDialect) InlineLiteral(v any) (string, error) {
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	}
	return fmt.Sprint(v), nil
}

// Describe writes e as readable SQL (for EXPLAIN and error messages; never
// sent to an engine).
func Describe(e *planner.Expr) string {
	r := &renderer{d: displayDialect{}}
	if err := r.expr(e); err != nil {
		return "<" + err.Error() + ">"
	}
	return r.b.String()
}

// DescribeOutput writes a partial (an aggregate or a group key) as readable
// SQL, as EXPLAIN shows it.
func DescribeOutput(o planner.OutputColumn) string {
	if o.Agg == nil {
		return Describe(o.Expr)
	}
	if o.Agg.Func.IsSketch() {
		return fmt.Sprintf("%s(%s) [built at the site from the engine's subgroups]", o.Agg.Func, Describe(o.Agg.Arg))
	}
	r := &renderer{d: displayDialect{}}
	if err := r.agg(o.Agg); err != nil {
		return "<" + err.Error() + ">"
	}
	return r.b.String()
}

// DescribeIdent writes an identifier as Describe does: quoted only where
// PostgreSQL would need it.
func DescribeIdent(name string) string { return displayDialect{}.QuoteIdent(name) }
