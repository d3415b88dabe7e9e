package ledger

import (
	"fmt"
	"math"
	"math/big"
	"time"
)

// The ledger counts ρ in integer units of 10⁻¹² so that sums are exact.
// A charge is rounded up to whole units and a limit down, so rounding can
// only refuse a query that would have just fitted, never let one through
// that does not. A consequence users may notice: three charges of 0.1 do not
// fit a limit of 0.3, because the float64 nearest 0.1 is slightly above 0.1
// and the one nearest 0.3 slightly below 0.3 — in exact arithmetic the three
// charges do exceed the limit.
const unitsPerRho = 1_000_000_000_000

// MaxRho is the largest ρ a charge or a limit may have; it keeps every
// sum of units far inside uint64.
const MaxRho = 1e6

var unitsScale = new(big.Rat).SetInt64(unitsPerRho)

// toUnits converts ρ to units, rounding up (charges) or down (limits).
func toUnits(rho float64, roundUp bool) uint64 {
	r := new(big.Rat).SetFloat64(rho) // exact: every finite float is a rational
	r.Mul(r, unitsScale)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if roundUp && m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Uint64()
}

// fromUnits returns the float64 nearest to units·10⁻¹², for display.
func fromUnits(u uint64) float64 { return float64(u) / unitsPerRho }

// fmtRho prints units for people, to 6 significant digits: the up-rounding
// of charges shows only in the 12th decimal, e.g. 0.480000000001 is "0.48".
func fmtRho(u uint64) string { return fmtFloat(fromUnits(u)) }

func checkRho(what string, v float64, zeroOK bool) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxRho:
		return fmt.Errorf("%s ρ=%v: must be in [0, %g]", what, v, float64(MaxRho))
	case v == 0 && !zeroOK:
		return fmt.Errorf("%s ρ=0: must be > 0", what)
	}
	return nil
}

// Period names a budget period.
type Period string

// The budget periods. Day and month are calendar periods in UTC.
const (
	PeriodDay   Period = "day"
	PeriodMonth Period = "month"
	PeriodTotal Period = "total"
)

// dayKey numbers UTC days since 1970-01-01; monthKey numbers UTC months as
// year·12 + month-1. Both only grow with time, so a larger key is later.
func dayKey(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func monthKey(t time.Time) int64 {
	y, m, _ := t.UTC().Date()
	return int64(y)*12 + int64(m) - 1
}

// renewal returns when the period with the given key ends.
func renewal(p Period, key int64) time.Time {
	switch p {
	case PeriodDay:
		return time.Unix((key+1)*86400, 0).UTC()
	case PeriodMonth:
		return time.Date(int(key/12), time.Month(key%12)+2, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}
