package planner

import (
	"errors"
	"fmt"
	"strings"
)

// CastType is a target type of OpCast. The set is closed so that every
// dialect can name each type; the planner refuses any other.
type CastType string

// Cast target types, named as PostgreSQL names them.
const (
	CastBigint  CastType = "bigint"
	CastInteger CastType = "integer"
	CastDouble  CastType = "double precision"
	CastText    CastType = "text"
	CastBoolean CastType = "boolean"
	CastDate    CastType = "date"
)

// known reports whether t is one of the Cast constants.
func (t CastType) known() bool {
	switch t {
	case CastBigint, CastInteger, CastDouble, CastText, CastBoolean, CastDate:
		return true
	}
	return false
}

// CastTarget checks the type operand of an OpCast node.
func CastTarget(e *Expr) (CastType, error) {
	if len(e.Args) != 2 {
		return "", fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
	}
	t := e.Args[1]
	if t == nil || t.Op != OpLiteral || t.Value == nil || t.Value.Kind != KindString {
		return "", fmt.Errorf("cast: target type must be a string literal")
	}
	ct := CastType(t.Value.Str)
	if !ct.known() {
		return "", fmt.Errorf("cast: unknown target type %q", t.Value.Str)
	}
	return ct, nil
}

// CheckLikePattern checks the pattern operand of OpLike / OpNotLike. A pattern
// with a backslash is refused: engines disagree on LIKE's default escape
// character (PostgreSQL, MySQL and Spark use backslash, DuckDB and Flink
// none), so only patterns where the question does not arise are sent.
func CheckLikePattern(e *Expr) error {
	if len(e.Args) != 2 {
		return fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
	}
	pat := e.Args[1]
	if pat == nil || pat.Op != OpLiteral || pat.Value == nil || pat.Value.Kind != KindString {
		return fmt.Errorf("%s: the pattern must be a string literal", e.Op)
	}
	if strings.ContainsRune(pat.Value.Str, '\\') {
		return fmt.Errorf("%s: patterns with a backslash are not supported", e.Op)
	}
	return nil
}

// ProvablyFloat reports whether e is a double whatever the column types
// are: a float literal, a CAST to double precision, or arithmetic, CASE or
// COALESCE with such an operand. Site-side division is allowed only then:
// PostgreSQL truncates integer division and DuckDB, Spark and MySQL do not,
// and without the columns' types the planner cannot tell an integer
// division from a float one, so it sends only divisions every engine
// computes alike.
func ProvablyFloat(e *Expr) bool {
	if e == nil {
		return false
	}
	switch e.Op {
	case OpLiteral:
		return e.Value != nil && e.Value.Kind == KindFloat
	case OpCast:
		ct, err := CastTarget(e)
		return err == nil && ct == CastDouble
	case OpAdd, OpSub, OpMul, OpDiv, OpNeg, OpCoalesce:
		for _, a := range e.Args {
			if ProvablyFloat(a) {
				return true
			}
		}
	case OpCase:
		for i, a := range e.Args {
			if (i%2 == 1 || i == len(e.Args)-1) && ProvablyFloat(a) {
				return true
			}
		}
	}
	return false
}

// provablyInt reports whether e is an integer whatever the column types
// are: an integer literal, a CAST to bigint or integer, or +, -, *, /, CASE
// or COALESCE over such operands only.
func provablyInt(e *Expr) bool {
	if e == nil {
		return false
	}
	switch e.Op {
	case OpLiteral:
		return e.Value != nil && e.Value.Kind == KindInt
	case OpExtract:
		return true
	case OpCast:
		ct, err := CastTarget(e)
		return err == nil && (ct == CastBigint || ct == CastInteger)
	case OpAdd, OpSub, OpMul, OpDiv, OpNeg, OpCoalesce:
		for _, a := range e.Args {
			if !provablyInt(a) {
				return false
			}
		}
		return len(e.Args) > 0
	case OpCase:
		n := len(e.Args)
		for i := 1; i < n; i += 2 {
			if !provablyInt(e.Args[i]) {
				return false
			}
		}
		return n%2 == 0 || provablyInt(e.Args[n-1])
	}
	return false
}

// DivisionOK reports whether a site may compute a / b: every engine agrees
// on double division, and on integer division when the renderer knows both
// operands are integers and writes the dialect's truncating operator.
func DivisionOK(e *Expr) bool {
	if ProvablyFloat(e) {
		return true
	}
	return len(e.Args) == 2 && provablyInt(e.Args[0]) && provablyInt(e.Args[1])
}

// extractFields are the fields of OpExtract: those every dialect's EXTRACT
// reads alike (day-of-week numbering, for one, differs between engines).
var extractFields = map[string]bool{"year": true, "quarter": true, "month": true, "day": true, "hour": true, "minute": true}

// ExtractField checks the field operand of an OpExtract node.
func ExtractField(e *Expr) (string, error) {
	if len(e.Args) != 2 {
		return "", fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
	}
	f := e.Args[0]
	if f == nil || f.Op != OpLiteral || f.Value == nil || f.Value.Kind != KindString || !extractFields[f.Value.Str] {
		return "", fmt.Errorf("extract: field must be one of year, quarter, month, day, hour, minute")
	}
	return f.Value.Str, nil
}

// truncUnits are the units of OpDateTrunc: those every supporting dialect
// truncates alike (weeks start on different days in different engines).
var truncUnits = map[string]bool{"year": true, "month": true, "day": true}

// TruncUnit checks the unit operand of an OpDateTrunc node.
func TruncUnit(e *Expr) (string, error) {
	if len(e.Args) != 2 {
		return "", fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
	}
	u := e.Args[0]
	if u == nil || u.Op != OpLiteral || u.Value == nil || u.Value.Kind != KindString || !truncUnits[u.Value.Str] {
		return "", errors.New("date_trunc: unit must be one of 'year', 'month', 'day'")
	}
	return u.Value.Str, nil
}

// ExprKey is a stable key for structural equality of expressions: equal
// keys, equal trees.
func ExprKey(e *Expr) string {
	var b strings.Builder
	writeExprKey(&b, e)
	return b.String()
}

func writeExprKey(b *strings.Builder, e *Expr) {
	if e == nil {
		b.WriteString("nil")
		return
	}
	fmt.Fprintf(b, "(%s %q", e.Op, e.Column)
	if v := e.Value; v != nil {
		fmt.Fprintf(b, " %s:%t:%d:%v:%q", v.Kind, v.Bool, v.Int, v.Float, v.Str)
	}
	for _, a := range e.Args {
		b.WriteByte(' ')
		writeExprKey(b, a)
	}
	b.WriteByte(')')
}
