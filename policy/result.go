package policy

import (
	"fmt"
	"slices"
)

// ResultInput describes a merged result for a coordinator policy, which is
// evaluated after every site has answered and before the coordinator
// answers the analyst. Its input is the usual document (site
// "coordinator", the query's plan) plus input.result.
type ResultInput struct {
	// Groups is the number of groups in the merged result, before HAVING,
	// ORDER BY and LIMIT.
	Groups int64 `json:"groups"`
	// GroupCounts is each merged group's row count across all sites
	// (the sum of the sites' COUNT(*) partials), in ascending order.
	GroupCounts []int64 `json:"group_counts"`
	// MinGroupCount is the smallest of GroupCounts, 0 when there are none.
	MinGroupCount int64 `json:"min_group_count"`
	// Sites are the sites that contributed.
	Sites []string `json:"sites"`
}

// NewResultInput builds the result part of a coordinator policy input.
func NewResultInput(counts []int64, sites []string) *ResultInput {
	r := &ResultInput{Groups: int64(len(counts)), GroupCounts: slices.Clone(counts), Sites: slices.Clone(sites)}
	if r.GroupCounts == nil {
		r.GroupCounts = []int64{}
	}
	if r.Sites == nil {
		r.Sites = []string{}
	}
	slices.Sort(r.GroupCounts)
	if len(r.GroupCounts) > 0 {
		r.MinGroupCount = r.GroupCounts[0]
	}
	return r
}

// CheckMerged enforces obligations at the coordinator, where the merged
// result can only be answered whole or refused: a merged group smaller than
// MinGroupSize, or more groups than MaxGroups, refuses it. It returns the
// obligations it applied.
func (o Obligations) CheckMerged(r *ResultInput) (applied []Obligation, err error) {
	if o.MinGroupSize > 1 {
		applied = append(applied, OblMinGroupSize)
	}
	if o.MaxGroups > 0 {
		applied = append(applied, OblMaxGroups)
	}
	if o.MinGroupSize > 1 && r.Groups > 0 && r.MinGroupCount < o.MinGroupSize {
		return applied, fmt.Errorf("the merged result has a group of %d rows across all sites; the coordinator's policy requires at least %d — group more coarsely or filter less",
			r.MinGroupCount, o.MinGroupSize)
	}
	if o.MaxGroups > 0 && r.Groups > o.MaxGroups {
		return applied, fmt.Errorf("%w: the merged result has %d groups, the coordinator's policy allows %d", ErrTooManyGroups, r.Groups, o.MaxGroups)
	}
	return applied, nil
}
