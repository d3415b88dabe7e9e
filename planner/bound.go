package planner

import "fmt"

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
	// Histograms maps a quantile_sketch output to its number of bins: the
	// renderer returns, instead of a sketch, the bounded count of rows in
	// each of that many equal bins of the output's Clamp bounds, as columns
	// HistogramBin(name, i); the site adds noise and builds the sketch.
	Histograms map[string]int
}

// HistogramBin names bin i of a histogram output in a bounded result.
func HistogramBin(output string, i int) string {
	return fmt.Sprintf("%s__bin%d", output, i)
}

// HistogramEdges returns the n+1 edges of n equal bins over [lo, hi].
func HistogramEdges(lo, hi float64, n int) []float64 {
	e := make([]float64, n+1)
	for i := range e {
		e[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	e[n] = hi
	return e
}
