package merge

import (
	"context"
	"fmt"

	"github.com/fedmesh/fedmesh/planner"
)

// GroupCounts sums the sites' COUNT(*) partials (countCol) per merged group
// of keys, grouping exactly as Merge does (typed keys: 1 from one site's
// INTEGER and 1 from another's BIGINT are one group; NULL is a group of its
// own), and returns one total per group, in first-seen order. A NULL count
// adds nothing. Errors name the site and column, as Merge's do.
func GroupCounts(ctx context.Context, keys []string, countCol string, parts []Partial) ([]int64, error) {
	keyTypes, err := resolveTypes(parts, keys)
	if err != nil {
		return nil, fmt.Errorf("group counts: %w", err)
	}
	if err := noBlobs(keys, keyTypes); err != nil {
		return nil, fmt.Errorf("group counts: %w", err)
	}
	ct, err := resolveTypes(parts, []string{countCol})
	if err != nil {
		return nil, fmt.Errorf("group counts: %w", err)
	}
	spec, err := planAgg(planner.MergeAgg{Name: countCol, Func: planner.MergeCount, Inputs: []string{countCol}}, ct)
	if err != nil {
		return nil, fmt.Errorf("group counts: %w", err)
	}
	acc := newAccumulator(spec)
	groups := newGroupTable(keyTypes, largestPartial(parts))
	if len(keys) == 0 {
		// Only groups some site sent count: a global aggregate over no
		// site's rows has no group to check.
		groups.n = 0
	}
	keyReaders := newReaders(len(keys))
	in := newReaders(1)
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
			for k, name := range keys {
				if err := load(keyReaders[k], name, keyTypes[k]); err != nil {
					return nil, fmt.Errorf("group counts: %w", err)
				}
			}
			if err := load(in[0], countCol, spec.read[0]); err != nil {
				return nil, fmt.Errorf("group counts: %w", err)
			}
			var gids []int32
			if len(keys) == 0 {
				groups.n = 1
				gids = make([]int32, n)
			} else {
				gids = groups.assign(keyReaders, n)
			}
			acc.grow(groups.n)
			acc.update(gids, in)
		}
	}
	out := make([]int64, 0, groups.n)
	for _, v := range acc.finish(groups.n) {
		switch x := v.(type) {
		case int64:
			out = append(out, x)
		case nil:
			out = append(out, 0)
		default:
			return nil, fmt.Errorf("group counts: a count of %T does not fit int64", v)
		}
	}
	return out, nil
}
