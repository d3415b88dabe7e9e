package merge

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// columnIndex finds name in a partial batch's schema.
func columnIndex(site string, schema *arrow.Schema, name string) (int, error) {
	idx := schema.FieldIndices(name)
	switch len(idx) {
	case 0:
		return 0, fmt.Errorf("site %q: partial result has no column %q, which the merge plan needs", site, name)
	case 1:
		return idx[0], nil
	default:
		return 0, fmt.Errorf("site %q: partial result has column %q more than once", site, name)
	}
}

// resolveTypes checks that every named column is present in every batch of
// every partial with a type the merge handles, and unifies each column's
// types across sites (INTEGER at one site and BIGINT at another read as
// BIGINT). A column no site sent a batch for has type NULL.
func resolveTypes(parts []Partial, names []string) ([]ltype, error) {
	types := make([]ltype, len(names))
	from := make([]string, len(names)) // site whose type types[i] came from
	for _, p := range parts {
		for _, rec := range p.Batches {
			schema := rec.Schema()
			for i, name := range names {
				idx, err := columnIndex(p.Site, schema, name)
				if err != nil {
					return nil, err
				}
				dt := schema.Field(idx).Type
				t, ok := logicalOf(dt)
				if !ok {
					return nil, fmt.Errorf("site %q: column %q has type %s, which the merge does not support", p.Site, name, dt)
				}
				u, ok := unifyTypes(types[i], t)
				if !ok {
					return nil, fmt.Errorf("column %q: site %q sent %s but site %q sent %s, which do not merge", name, from[i], types[i], p.Site, t)
				}
				if u != types[i] && from[i] == "" {
					from[i] = p.Site
				}
				types[i] = u
			}
		}
	}
	return types, nil
}

// largestPartial is the row count of the largest partial: a lower bound on
// the number of merged groups, used to size hash tables once.
func largestPartial(parts []Partial) int {
	best := 0
	for _, p := range parts {
		n := 0
		for _, rec := range p.Batches {
			n += int(rec.NumRows())
		}
		best = max(best, n)
	}
	return best
}
