package merge

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// compareValues orders two non-NULL values of comparable types. Integers,
// big integers and decimals compare exactly; a double against anything
// compares as doubles.
func compareValues(a, b any) (int, error) {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y), nil
		}
	case float64:
		if y, ok := b.(float64); ok {
			return compareFloat(x, y), nil
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(boolInt(x), boolInt(y)), nil
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), nil
		}
	case Decimal:
		if y, ok := b.(Decimal); ok && x.Scale == y.Scale && x.Unscaled != nil && y.Unscaled != nil {
			return x.Unscaled.Cmp(y.Unscaled), nil
		}
	}
	if !isNumberValue(a) || !isNumberValue(b) {
		return 0, fmt.Errorf("cannot compare %s with %s", sqlTypeOf(a), sqlTypeOf(b))
	}
	_, af := a.(float64)
	_, bf := b.(float64)
	if af || bf {
		return compareFloat(valueFloat(a), valueFloat(b)), nil
	}
	x, xs := valueScaled(a)
	y, ys := valueScaled(b)
	x, y = alignScales(x, xs, y, ys)
	return x.Cmp(y), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isNumberValue(v any) bool {
	switch v.(type) {
	case int64, *big.Int, float64, Decimal:
		return true
	}
	return false
}

// valueType names the SQL type of a value, for error messages.
func sqlTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case bool:
		return "BOOLEAN"
	case int64:
		return "BIGINT"
	case *big.Int:
		return "HUGEINT"
	case float64:
		return "DOUBLE"
	case Decimal:
		return "DECIMAL"
	case string:
		return "VARCHAR"
	case time.Time:
		return "TIMESTAMP"
	}
	return fmt.Sprintf("%T", v)
}

func valueFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case float64:
		return x
	case Decimal:
		return x.Float64()
	}
	return math.NaN()
}

// toScaled returns a fresh big.Int holding v's unscaled value, and its scale.
func valueScaled(v any) (*big.Int, int32) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), 0
	case *big.Int:
		return new(big.Int).Set(x), 0
	case Decimal:
		if x.Unscaled == nil {
			return new(big.Int), x.Scale
		}
		return new(big.Int).Set(x.Unscaled), x.Scale
	}
	return new(big.Int), 0
}

// alignScales brings x (at scale xs) and y (at ys) to the larger scale, in place.
func alignScales(x *big.Int, xs int32, y *big.Int, ys int32) (*big.Int, *big.Int) {
	switch {
	case xs < ys:
		x.Mul(x, pow10Big(ys-xs))
	case ys < xs:
		y.Mul(y, pow10Big(xs-ys))
	}
	return x, y
}

func decimalRat(d Decimal) *big.Rat {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	if d.Scale < 0 {
		return new(big.Rat).SetInt(new(big.Int).Mul(u, pow10Big(-d.Scale)))
	}
	return new(big.Rat).SetFrac(u, pow10Big(d.Scale))
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// arithType is the static type of a binary arithmetic op, by simple
// promotion: DOUBLE absorbs all; a decimal makes a DECIMAL(38,s) (the sum of
// scales for ×), except that division by or of a decimal is DOUBLE; HUGEINT
// absorbs BIGINT; integer division truncates.
func arithType(op planner.Op, a, b ltype) (ltype, error) {
	if (!a.numeric() && a.kind != tNull) || (!b.numeric() && b.kind != tNull) {
		return ltype{}, fmt.Errorf("cannot apply %s to %s and %s", strings.ToUpper(string(op)), a, b)
	}
	switch {
	case a.kind == tNull && b.kind == tNull:
		return typeNull, nil
	case a.kind == tNull:
		a = b
	case b.kind == tNull:
		b = a
	}
	switch {
	case a.kind == tFloat || b.kind == tFloat:
		return typeFloat, nil
	case a.kind == tDec || b.kind == tDec:
		switch op {
		case planner.OpDiv:
			return typeFloat, nil
		case planner.OpMul:
			return decType(38, a.exactScale()+b.exactScale()), nil
		}
		return decType(38, max(a.exactScale(), b.exactScale())), nil
	case a.kind == tHuge || b.kind == tHuge:
		return typeHuge, nil
	}
	return typeInt, nil
}

func compileArith(op planner.Op, args []evalNode) (evalNode, error) {
	if err := checkArity(op, args, 2, 2); err != nil {
		return evalNode{}, err
	}
	t, err := arithType(op, args[0].t, args[1].t)
	if err != nil {
		return evalNode{}, err
	}
	l, r := args[0].fn, args[1].fn
	return evalNode{t: t, fn: func(cols [][]any, row int) (any, error) {
		a, err := l(cols, row)
		if err != nil {
			return nil, err
		}
		b, err := r(cols, row)
		if a == nil || b == nil || err != nil {
			return nil, err
		}
		return arith(op, t, a, b)
	}}, nil
}

func arith(op planner.Op, t ltype, a, b any) (any, error) {
	switch t.kind {
	case tFloat:
		x, y := valueFloat(a), valueFloat(b)
		switch op {
		case planner.OpAdd:
			return x + y, nil
		case planner.OpSub:
			return x - y, nil
		case planner.OpMul:
			return x * y, nil
		}
		if y == 0 {
			return nil, ErrDivisionByZero
		}
		return x / y, nil
	case tDec:
		x, xs := valueScaled(a)
		y, ys := valueScaled(b)
		if op == planner.OpMul {
			return rescaled(x.Mul(x, y), xs+ys, t.scale), nil
		}
		x, y = alignScales(x, xs, y, ys)
		if op == planner.OpAdd {
			return rescaled(x.Add(x, y), max(xs, ys), t.scale), nil
		}
		return rescaled(x.Sub(x, y), max(xs, ys), t.scale), nil
	case tInt, tHuge:
		return intArith(op, t.kind == tHuge, a, b)
	}
	return nil, nil
}

func rescaled(u *big.Int, from, to int32) Decimal {
	if to > from {
		u.Mul(u, pow10Big(to-from))
		from = to
	}
	return Decimal{Unscaled: u, Scale: from}
}

// intArith is exact integer arithmetic; division truncates toward zero as
// PostgreSQL's does. A BIGINT result outside int64 is ErrOutOfRange, as in
// PostgreSQL; a HUGEINT one continues in big.Int.
func intArith(op planner.Op, huge bool, a, b any) (any, error) {
	x, xok := a.(int64)
	y, yok := b.(int64)
	if xok && yok {
		switch op {
		case planner.OpAdd:
			if r := x + y; (x^r)&(y^r) >= 0 {
				return r, nil
			}
		case planner.OpSub:
			if r := x - y; (x^y)&(x^r) >= 0 {
				return r, nil
			}
		case planner.OpMul:
			if x == 0 || y == 0 {
				return int64(0), nil
			}
			if r := x * y; r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return r, nil
			}
		case planner.OpDiv:
			if y == 0 {
				return nil, ErrDivisionByZero
			}
			if x != math.MinInt64 || y != -1 {
				return x / y, nil
			}
		}
	}
	bx, _ := valueScaled(a)
	by, _ := valueScaled(b)
	switch op {
	case planner.OpAdd:
		bx.Add(bx, by)
	case planner.OpSub:
		bx.Sub(bx, by)
	case planner.OpMul:
		bx.Mul(bx, by)
	case planner.OpDiv:
		if by.Sign() == 0 {
			return nil, ErrDivisionByZero
		}
		bx.Quo(bx, by)
	}
	return bigResult(bx, huge)
}

func bigResult(b *big.Int, huge bool) (any, error) {
	if b.IsInt64() {
		return b.Int64(), nil
	}
	if !huge {
		return nil, ErrOutOfRange
	}
	return b, nil
}

func compileNeg(args []evalNode) (evalNode, error) {
	if err := checkArity(planner.OpNeg, args, 1, 1); err != nil {
		return evalNode{}, err
	}
	t := args[0].t
	if !t.numeric() && t.kind != tNull {
		return evalNode{}, fmt.Errorf("cannot negate %s", t)
	}
	arg := args[0].fn
	return evalNode{t: t, fn: func(cols [][]any, row int) (any, error) {
		v, err := arg(cols, row)
		if v == nil || err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case float64:
			return -x, nil
		case int64:
			if x != math.MinInt64 {
				return -x, nil
			}
			return bigResult(new(big.Int).Neg(big.NewInt(x)), t.kind == tHuge)
		case *big.Int:
			return bigResult(new(big.Int).Neg(x), true)
		case Decimal:
			u, s := valueScaled(x)
			return Decimal{Unscaled: u.Neg(u), Scale: s}, nil
		}
		return nil, fmt.Errorf("cannot negate %s", sqlTypeOf(v))
	}}, nil
}
