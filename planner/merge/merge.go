package merge

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fedmesh/fedmesh/planner"
)

// Merge combines the sites' partial results as q.Merge says and applies
// HAVING, ORDER BY, OFFSET and LIMIT, with PostgreSQL's semantics: the answer
// equals the query run over the union of all sites' rows.
//
// For KindAggregate, rows of all partials are grouped by q.Merge.Keys (NULL
// is a group of its own; keys compare by value whatever integer or string
// width each site's engine used) and each MergeAgg combines its inputs. For
// KindRows the partials' rows are concatenated. Outputs, Having and OrderBy
// are then evaluated over the merged columns.
//
// Errors name the site and column when a partial lacks a column the plan
// needs or sent a type that does not merge, and the output when evaluation
// fails (errors.Is(err, ErrDivisionByZero), ErrOutOfRange). Merge returns
// ctx.Err(), wrapped, when ctx ends first.
func Merge(ctx context.Context, q *planner.Query, parts []Partial) (*Result, error) {
	if q == nil {
		return nil, errors.New("merge: no query")
	}
	var (
		res *Result
		err error
	)
	switch q.Kind {
	case planner.KindAggregate:
		res, err = mergeAggregate(ctx, q, parts)
	case planner.KindRows:
		res, err = mergeRows(ctx, q, parts)
	default:
		err = fmt.Errorf("unknown plan kind %q", q.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	res.Approximate = approximations(q)
	return res, nil
}

func mergeAggregate(ctx context.Context, q *planner.Query, parts []Partial) (*Result, error) {
	mp := &q.Merge
	keyTypes, err := resolveTypes(parts, mp.Keys)
	if err != nil {
		return nil, err
	}
	if err := noBlobs(mp.Keys, keyTypes); err != nil {
		return nil, err
	}
	specs := make([]aggSpec, len(mp.Aggs))
	for i, a := range mp.Aggs {
		in, err := resolveTypes(parts, a.Inputs)
		if err != nil {
			return nil, err
		}
		if specs[i], err = planAgg(a, in); err != nil {
			return nil, err
		}
	}

	// Compile before the heavy work so that a bad plan fails fast.
	sc := newEvalScope()
	for i, k := range mp.Keys {
		if err := sc.add(k, keyTypes[i]); err != nil {
			return nil, err
		}
	}
	for _, s := range specs {
		if err := sc.add(s.agg.Name, s.result); err != nil {
			return nil, err
		}
	}
	prog, err := compileProgram(mp, mp.Outputs, sc)
	if err != nil {
		return nil, err
	}

	groups := newGroupTable(keyTypes, largestPartial(parts))
	keyReaders := newReaders(len(mp.Keys))
	accs := make([]accumulator, len(specs))
	inReaders := make([][]*colReader, len(specs))
	for i, s := range specs {
		accs[i] = newAccumulator(s)
		inReaders[i] = newReaders(len(s.read))
	}
	for _, p := range parts {
		for _, rec := range p.Batches {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := int(rec.NumRows())
			if n == 0 {
				continue
			}
			load := func(r *colReader, name string, t ltype) error {
				idx, err := columnIndex(p.Site, rec.Schema(), name)
				if err != nil {
					return err
				}
				if err := r.load(rec.Column(idx), t); err != nil {
					return fmt.Errorf("site %q: column %q: %w", p.Site, name, err)
				}
				return nil
			}
			for k, name := range mp.Keys {
				if err := load(keyReaders[k], name, keyTypes[k]); err != nil {
					return nil, err
				}
			}
			gids := groups.assign(keyReaders, n)
			for i, s := range specs {
				for j, name := range s.agg.Inputs {
					if err := load(inReaders[i][j], name, s.read[j]); err != nil {
						return nil, err
					}
				}
				accs[i].grow(groups.n)
				accs[i].update(gids, inReaders[i])
				if se, ok := accs[i].(sketchErr); ok && se.err() != nil {
					return nil, fmt.Errorf("site %q: %s: %w", p.Site, s.agg.Name, se.err())
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	cols := make([][]any, 0, len(mp.Keys)+len(accs))
	cols = append(cols, groups.keyVals...)
	for _, a := range accs {
		cols = append(cols, a.finish(groups.n))
	}
	return prog.run(ctx, cols, groups.n)
}

func newReaders(n int) []*colReader {
	rs := make([]*colReader, n)
	for i := range rs {
		rs[i] = &colReader{}
	}
	return rs
}

func mergeRows(ctx context.Context, q *planner.Query, parts []Partial) (*Result, error) {
	mp := &q.Merge
	outputs := mp.Outputs
	if q.Star || len(outputs) == 0 {
		outputs = starOutputs(parts)
	}
	var names []string
	for _, o := range outputs {
		names = o.Expr.Columns(names)
	}
	names = mp.Having.Columns(names)
	for _, o := range mp.OrderBy {
		for _, c := range o.Expr.Columns(nil) {
			// ORDER BY may name an output column rather than a partial one.
			if !slices.Contains(names, c) && !slices.ContainsFunc(outputs, func(o planner.Output) bool { return o.Name == c }) {
				names = append(names, c)
			}
		}
	}
	types, err := resolveTypes(parts, names)
	if err != nil {
		return nil, err
	}
	if err := noBlobs(names, types); err != nil {
		return nil, err
	}
	sc := newEvalScope()
	for i, name := range names {
		if err := sc.add(name, types[i]); err != nil {
			return nil, err
		}
	}
	prog, err := compileProgram(mp, outputs, sc)
	if err != nil {
		return nil, err
	}

	total := 0
	for _, p := range parts {
		for _, rec := range p.Batches {
			total += int(rec.NumRows())
		}
	}
	cols := make([][]any, len(names))
	for i := range cols {
		cols[i] = make([]any, 0, total)
	}
	r := &colReader{}
	for _, p := range parts {
		for _, rec := range p.Batches {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := int(rec.NumRows())
			for k, name := range names {
				idx, err := columnIndex(p.Site, rec.Schema(), name)
				if err != nil {
					return nil, err
				}
				if err := r.load(rec.Column(idx), types[k]); err != nil {
					return nil, fmt.Errorf("site %q: column %q: %w", p.Site, name, err)
				}
				for i := range n {
					cols[k] = append(cols[k], r.value(i))
				}
			}
		}
	}
	return prog.run(ctx, cols, total)
}

// starOutputs lists the columns of the first batch any site sent, for
// SELECT * (the planner has no catalog to expand the star).
func starOutputs(parts []Partial) []planner.Output {
	var first arrow.RecordBatch
	for _, p := range parts {
		if len(p.Batches) > 0 {
			first = p.Batches[0]
			break
		}
	}
	if first == nil {
		return nil
	}
	fields := first.Schema().Fields()
	out := make([]planner.Output, len(fields))
	for i, f := range fields {
		out[i] = planner.Output{Name: f.Name, Expr: planner.Col(f.Name)}
	}
	return out
}

// noBlobs refuses binary columns anywhere but as a sketch aggregate's input:
// they are serialized sketches, not values an answer may hold or group by.
func noBlobs(names []string, types []ltype) error {
	for i, t := range types {
		if t.kind == tBin {
			return fmt.Errorf("column %q is binary; only sketch aggregates take binary partials", names[i])
		}
	}
	return nil
}
