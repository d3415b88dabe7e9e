package planner

// Bound asks a renderer to bound each privacy unit's contribution, for a
// differentially private answer: every unit (a distinct value of Unit)
// contributes at most MaxRows rows to each group and to at most MaxGroups
// groups, both chosen at random by the engine, and every summed value is
// clamped into its Clamp bounds row by row. The aggregates the renderer
// then emits are the bounded sufficient statistics the site adds noise to:
//
//	count_star, count  the bounded row count (of non-NULL values for count)
//	sum                the sum of the clamped values
//	var_pop            the sum of the squared clamped values
//
// A site agent sets Bound from its own policy's obligation; it is never part
// of the wire contract, so a coordinator cannot choose it.
type Bound struct {
	// Unit is the privacy unit column (qualified "table.column" in a join).
	Unit string
	// MaxGroups and MaxRows are the contribution bounds, both >= 1.
	MaxGroups int64
	MaxRows   int64
	// Clamp maps an aggregate output name (sum and var_pop outputs) to the
	// [lower, upper] bounds of its argument.
	Clamp map[string][2]float64
	// Center maps a sum or var_pop output to a value subtracted from each
	// clamped value (the middle of its bounds), so the engine sums
	// deviations: their sensitivity is half the bounds' width rather than
	// the largest bound, and the site adds the center back with its noisy
	// count. Outputs not listed are not shifted.
	Center map[string]float64
}
