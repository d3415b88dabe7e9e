package merge

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// accumulator merges one MergeAgg over all partials. State lives in typed
// slices indexed by group id; update consumes one batch column-wise.
type accumulator interface {
	// grow makes room for n groups (ids 0..n-1); new groups start empty.
	grow(n int)
	// update folds row i of the inputs into group gids[i].
	update(gids []int32, in []*colReader)
	// finish returns one value per group in the result type's representation.
	finish(n int) []any
}

func growSlice[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	return slices.Grow(s, n-len(s))[:n]
}

// exactSum sums integers or decimals (unscaled at one scale) exactly: in
// int64 while it fits, in big.Int for a group once it overflows.
type exactSum struct {
	t     ltype // result type
	count bool  // COUNT semantics: 0, not NULL, for a group without input
	v     []int64
	seen  []bool
	big   []*big.Int // nil until some group overflows
	tmp   big.Int
}

func (s *exactSum) grow(n int) {
	s.v = growSlice(s.v, n)
	s.seen = growSlice(s.seen, n)
	if s.big != nil {
		s.big = growSlice(s.big, n)
	}
}

func (s *exactSum) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	if !r.hasNulls && r.bigs == nil {
		for i, x := range r.ints[:len(gids)] {
			g := gids[i]
			s.seen[g] = true
			old := s.v[g]
			sum := old + x
			if s.big != nil || (old^sum)&(x^sum) < 0 {
				s.addSlow(g, x, nil)
				continue
			}
			s.v[g] = sum
		}
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue
		}
		s.seen[g] = true
		x, b := r.exactAt(i)
		s.addSlow(g, x, b)
	}
}

// addSlow adds x (or b when non-nil) to group g, moving g to big.Int when
// the sum leaves int64.
func (s *exactSum) addSlow(g int32, x int64, b *big.Int) {
	if b == nil && (s.big == nil || s.big[g] == nil) {
		old := s.v[g]
		sum := old + x
		if (old^sum)&(x^sum) >= 0 {
			s.v[g] = sum
			return
		}
	}
	if s.big == nil {
		s.big = make([]*big.Int, len(s.v))
	}
	acc := s.big[g]
	if acc == nil {
		acc = big.NewInt(s.v[g])
		s.big[g] = acc
		s.v[g] = 0
	}
	if b == nil {
		b = s.tmp.SetInt64(x)
	}
	acc.Add(acc, b)
}

// at returns group g's sum: b when non-nil, else v.
func (s *exactSum) at(g int) (v int64, b *big.Int) {
	if s.big != nil && s.big[g] != nil {
		return 0, s.big[g]
	}
	return s.v[g], nil
}

func (s *exactSum) finish(n int) []any {
	out := make([]any, n)
	s.grow(n)
	for g := range out {
		if !s.seen[g] && !s.count {
			continue
		}
		v, b := s.at(g)
		out[g] = exactValue(s.t, v, b)
	}
	return out
}

// exactMinMax keeps the least or greatest exact value per group.
type exactMinMax struct {
	t    ltype
	max  bool
	v    []int64
	seen []bool
	big  []*big.Int
}

func (m *exactMinMax) grow(n int) {
	m.v = growSlice(m.v, n)
	m.seen = growSlice(m.seen, n)
	if m.big != nil {
		m.big = growSlice(m.big, n)
	}
}

func (m *exactMinMax) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	if !r.hasNulls && r.bigs == nil && m.big == nil {
		for i, x := range r.ints[:len(gids)] {
			g := gids[i]
			if !m.seen[g] || (x > m.v[g]) == m.max && x != m.v[g] {
				m.v[g] = x
				m.seen[g] = true
			}
		}
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue
		}
		x, b := r.exactAt(i)
		if m.seen[g] {
			var cur *big.Int
			if m.big != nil {
				cur = m.big[g]
			}
			c := compareExact(x, b, m.v[g], cur)
			if c == 0 || (c > 0) != m.max {
				continue
			}
		}
		m.seen[g] = true
		m.v[g] = x
		if b != nil && m.big == nil {
			m.big = make([]*big.Int, len(m.v))
		}
		if m.big != nil {
			m.big[g] = nil
			if b != nil {
				m.big[g] = new(big.Int).Set(b)
			}
		}
	}
}

func (m *exactMinMax) finish(n int) []any {
	out := make([]any, n)
	m.grow(n)
	for g := range out {
		if !m.seen[g] {
			continue
		}
		var b *big.Int
		if m.big != nil {
			b = m.big[g]
		}
		out[g] = exactValue(m.t, m.v[g], b)
	}
	return out
}

// compareExact compares x (or xb) with y (or yb).
func compareExact(x int64, xb *big.Int, y int64, yb *big.Int) int {
	if xb == nil && yb == nil {
		return cmp.Compare(x, y)
	}
	if xb == nil {
		xb = big.NewInt(x)
	}
	if yb == nil {
		yb = big.NewInt(y)
	}
	return xb.Cmp(yb)
}

// floatAcc sums or takes the min/max of doubles.
type floatAcc struct {
	fn   planner.MergeFunc
	v    []float64
	seen []bool
}

func (f *floatAcc) grow(n int) {
	f.v = growSlice(f.v, n)
	f.seen = growSlice(f.seen, n)
}

func (f *floatAcc) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	for i, g := range gids {
		if r.hasNulls && r.arr.IsNull(i) {
			continue
		}
		x := r.floats[i]
		switch {
		case !f.seen[g]:
			f.v[g] = x
		case f.fn == planner.MergeSum:
			f.v[g] += x
		case f.fn == planner.MergeMin && compareFloat(x, f.v[g]) < 0, f.fn == planner.MergeMax && compareFloat(x, f.v[g]) > 0:
			f.v[g] = x
		}
		f.seen[g] = true
	}
}

func (f *floatAcc) finish(n int) []any {
	out := make([]any, n)
	f.grow(n)
	for g := range out {
		if f.seen[g] {
			out[g] = f.v[g]
		}
	}
	return out
}

// compareFloat orders doubles as PostgreSQL does: NaN equals NaN and is
// greater than every other value.
func compareFloat(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	return cmp.Compare(x, y)
}

// orderedMinMax keeps the least or greatest string, bool or time per group.
type orderedMinMax[T any] struct {
	max     bool
	v       []T
	seen    []bool
	get     func(r *colReader, i int) T
	compare func(a, b T) int
	own     func(T) T // copies a value out of Arrow memory before keeping it
}

func (m *orderedMinMax[T]) grow(n int) {
	m.v = growSlice(m.v, n)
	m.seen = growSlice(m.seen, n)
}

func (m *orderedMinMax[T]) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue
		}
		x := m.get(r, i)
		if m.seen[g] {
			c := m.compare(x, m.v[g])
			if c == 0 || (c > 0) != m.max {
				continue
			}
		}
		m.v[g] = m.own(x)
		m.seen[g] = true
	}
}

func (m *orderedMinMax[T]) finish(n int) []any {
	out := make([]any, n)
	m.grow(n)
	for g := range out {
		if m.seen[g] {
			out[g] = m.v[g]
		}
	}
	return out
}

func newStringMinMax(isMax bool) accumulator {
	return &orderedMinMax[string]{
		max:     isMax,
		get:     func(r *colReader, i int) string { return r.str(i) },
		compare: strings.Compare,
		own:     strings.Clone,
	}
}

func newBoolMinMax(isMax bool) accumulator {
	return &orderedMinMax[bool]{
		max: isMax,
		get: func(r *colReader, i int) bool { return r.bools.Value(i) },
		compare: func(a, b bool) int {
			switch {
			case a == b:
				return 0
			case b:
				return -1
			}
			return 1
		},
		own: func(b bool) bool { return b },
	}
}

func newTimeMinMax(isMax bool) accumulator {
	return &orderedMinMax[time.Time]{
		max:     isMax,
		get:     func(r *colReader, i int) time.Time { return r.times[i] },
		compare: time.Time.Compare,
		own:     func(t time.Time) time.Time { return t },
	}
}

// nullAcc is an aggregate whose input no site typed: every value is NULL.
type nullAcc struct{}

func (nullAcc) grow(int)                     {}
func (nullAcc) update([]int32, []*colReader) {}
func (nullAcc) finish(n int) []any           { return make([]any, n) }
