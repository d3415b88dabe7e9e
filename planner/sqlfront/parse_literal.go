package sqlfront

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// constant converts a literal of the parse tree into a typed Value.
func (p *parser) constant(c *pg_query.A_Const) (planner.Value, error) {
	if c.Isnull {
		return planner.Value{Kind: planner.KindNull}, nil
	}
	switch v := c.Val.(type) {
	case *pg_query.A_Const_Ival:
		return planner.Value{Kind: planner.KindInt, Int: int64(v.Ival.GetIval())}, nil
	case *pg_query.A_Const_Fval:
		return p.number(v.Fval.GetFval(), c.Location)
	case *pg_query.A_Const_Boolval:
		return planner.Value{Kind: planner.KindBool, Bool: v.Boolval.GetBoolval()}, nil
	case *pg_query.A_Const_Sval:
		return planner.Value{Kind: planner.KindString, Str: v.Sval.GetSval()}, nil
	default:
		return planner.Value{}, p.refuse(c.Location, "bit string literal", "this kind of literal is not supported", "use an integer, float, string, boolean or NULL")
	}
}

// number parses a numeric literal the parser did not fit in 32 bits: an
// integer that fits int64 stays exact, anything else with a fraction or
// exponent becomes a float64.
func (p *parser) number(s string, loc int32) (planner.Value, error) {
	clean := strings.ReplaceAll(s, "_", "")
	digits := strings.TrimPrefix(clean, "-")
	lower := strings.ToLower(digits)
	prefixed := strings.HasPrefix(lower, "0x") || strings.HasPrefix(lower, "0o") || strings.HasPrefix(lower, "0b")
	if prefixed || !strings.ContainsAny(lower, ".e") {
		base := 10
		if prefixed {
			base = 0
		}
		n, err := strconv.ParseInt(clean, base, 64)
		if err != nil {
			return planner.Value{}, p.refuse(loc, "integer literal", fmt.Sprintf("integer %s is out of range", s),
				"use a value between -9223372036854775808 and 9223372036854775807")
		}
		return planner.Value{Kind: planner.KindInt, Int: n}, nil
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return planner.Value{}, p.refuse(loc, "numeric literal", fmt.Sprintf("number %s is out of range", s), "use a smaller number")
	}
	return planner.Value{Kind: planner.KindFloat, Float: f}, nil
}
