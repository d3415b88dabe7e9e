package merge

import (
	"context"
	"fmt"
	"slices"

	"github.com/fedmesh/fedmesh/planner"
)

// mergeProgram is the compiled tail of a merge: HAVING, ORDER BY, OFFSET/LIMIT
// and the output expressions.
type mergeProgram struct {
	names   []string
	outputs []evalNode
	having  *evalNode
	order   []compiledOrder
	limit   *int64
	offset  int64
}

type compiledOrder struct {
	evalNode
	desc       bool
	nullsFirst bool
}

// ctxEvery is how many rows the row loops run between checks of ctx.
const ctxEvery = 1 << 14

func compileProgram(mp *planner.MergePlan, outputs []planner.Output, sc *evalScope) (*mergeProgram, error) {
	if mp.Limit != nil && *mp.Limit < 0 {
		return nil, fmt.Errorf("LIMIT must not be negative (is %d)", *mp.Limit)
	}
	if mp.Offset < 0 {
		return nil, fmt.Errorf("OFFSET must not be negative (is %d)", mp.Offset)
	}
	p := &mergeProgram{limit: mp.Limit, offset: mp.Offset}
	for _, o := range outputs {
		c, err := sc.compile(o.Expr)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		p.names = append(p.names, o.Name)
		p.outputs = append(p.outputs, c)
	}
	if mp.Having != nil {
		c, err := sc.compile(mp.Having)
		if err != nil {
			return nil, fmt.Errorf("HAVING: %w", err)
		}
		if !isBoolType(c.t) {
			return nil, fmt.Errorf("HAVING: condition is %s, not BOOLEAN", c.t)
		}
		p.having = &c
	}
	osc := sc.withAliases(outputs)
	for i, o := range mp.OrderBy {
		c, err := osc.compile(o.Expr)
		if err != nil {
			return nil, fmt.Errorf("ORDER BY item %d: %w", i+1, err)
		}
		// PostgreSQL: NULL sorts above every value unless told otherwise.
		nullsFirst := o.Desc
		if o.NullsFirst != nil {
			nullsFirst = *o.NullsFirst
		}
		p.order = append(p.order, compiledOrder{evalNode: c, desc: o.Desc, nullsFirst: nullsFirst})
	}
	return p, nil
}

// run evaluates the program over n merged rows held column-wise in cols.
// Output expressions are evaluated only for the rows that are returned.
func (p *mergeProgram) run(ctx context.Context, cols [][]any, n int) (*Result, error) {
	rows, err := p.filter(ctx, cols, n)
	if err != nil {
		return nil, err
	}
	if len(p.order) > 0 {
		if rows, err = p.sort(ctx, cols, rows); err != nil {
			return nil, err
		}
	}
	rows = p.window(rows)

	res := &Result{Columns: make([]Column, len(p.outputs)), Rows: make([][]any, len(rows))}
	for j, c := range p.outputs {
		res.Columns[j] = Column{Name: p.names[j], Type: c.t.String()}
	}
	backing := make([]any, len(rows)*len(p.outputs))
	for i, r := range rows {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out := backing[i*len(p.outputs) : (i+1)*len(p.outputs) : (i+1)*len(p.outputs)]
		for j, c := range p.outputs {
			v, err := c.fn(cols, int(r))
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", p.names[j], err)
			}
			out[j] = v
		}
		res.Rows[i] = out
	}
	return res, nil
}

// filter returns the rows HAVING keeps: those where it is true.
func (p *mergeProgram) filter(ctx context.Context, cols [][]any, n int) ([]int32, error) {
	rows := make([]int32, 0, n)
	for i := range n {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if p.having != nil {
			v, err := p.having.fn(cols, i)
			if err != nil {
				return nil, fmt.Errorf("HAVING: %w", err)
			}
			if v != true {
				continue
			}
		}
		rows = append(rows, int32(i))
	}
	return rows, nil
}

// sort orders rows stably by the ORDER BY items.
func (p *mergeProgram) sort(ctx context.Context, cols [][]any, rows []int32) ([]int32, error) {
	nk := len(p.order)
	keys := make([]any, len(rows)*nk)
	for i, r := range rows {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for k, o := range p.order {
			v, err := o.fn(cols, int(r))
			if err != nil {
				return nil, fmt.Errorf("ORDER BY item %d: %w", k+1, err)
			}
			keys[i*nk+k] = v
		}
	}
	perm := make([]int32, len(rows))
	for i := range perm {
		perm[i] = int32(i)
	}
	var cmpErr error
	slices.SortStableFunc(perm, func(x, y int32) int {
		for k, o := range p.order {
			a, b := keys[int(x)*nk+k], keys[int(y)*nk+k]
			switch {
			case a == nil && b == nil:
				continue
			case a == nil || b == nil:
				if (a == nil) == o.nullsFirst {
					return -1
				}
				return 1
			}
			c, err := compareValues(a, b)
			if err != nil && cmpErr == nil {
				cmpErr = fmt.Errorf("ORDER BY item %d: %w", k+1, err)
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]int32, len(perm))
	for i, j := range perm {
		out[i] = rows[j]
	}
	return out, nil
}

// window applies OFFSET, then LIMIT.
func (p *mergeProgram) window(rows []int32) []int32 {
	off := min(p.offset, int64(len(rows)))
	rows = rows[off:]
	if p.limit != nil && *p.limit < int64(len(rows)) {
		rows = rows[:*p.limit]
	}
	return rows
}
