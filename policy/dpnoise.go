package policy

import (
	"context"
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
)

// NoiseSource draws exact discrete Gaussian noise: an integer Z with
// P[Z = z] ∝ exp(-z²/(2·sigma2)), from a cryptographically secure source.
// Implemented by privacy/dp; tests may use a deterministic source.
type NoiseSource interface {
	DiscreteGaussian(sigma2 *big.Rat) (*big.Int, error)
}

// noisyColumn is a DPColumn with its discretisation.
type noisyColumn struct {
	DPColumn
	idx    int
	grid   *big.Rat // values are released as multiples of grid
	sigma2 *big.Rat // noise variance parameter, in grid units
	// binIdx, for a histogram, are its bins' columns (idx is the first).
	binIdx []int
}

// ApplyDP adds noise to a bounded result and releases its groups: every
// column in p.Columns is read exactly, rounded to its grid, given discrete
// Gaussian noise calibrated to its sensitivity and share of ρ, and written
// back (counts as Int64, clamped at 0; sums and variances as Float64); a
// group is kept only if its noisy count reaches p.Threshold. Group key
// columns pass through. It returns the released batches (the caller releases
// them and the inputs) and p with each column's Sigma set to the noise
// actually added (the grid widens the sensitivity slightly). How many groups
// were not released is deliberately not returned: that exact count must not
// leave the site.
func ApplyDP(ctx context.Context, batches []arrow.RecordBatch, p *DPPlan, noise NoiseSource) (out []arrow.RecordBatch, err error) {
	defer func() {
		if err != nil {
			for _, b := range out {
				b.Release()
			}
			out = nil
		}
	}()
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("differential privacy: %w", err)
		}
		cols, err := p.noisyColumns(b.Schema())
		if err != nil {
			return out, err
		}
		nb, err := p.applyBatch(ctx, b, cols, noise)
		if err != nil {
			return out, fmt.Errorf("differential privacy: batch %d: %w", i, err)
		}
		out = append(out, nb)
	}
	return out, nil
}

// noisyColumns resolves p's columns in schema and fixes their noise.
func (p *DPPlan) noisyColumns(schema *arrow.Schema) ([]noisyColumn, error) {
	cols := make([]noisyColumn, len(p.Columns))
	for i := range p.Columns {
		c := &p.Columns[i]
		names := []string{c.Name}
		if c.Kind == DPHistogram {
			names = names[:0]
			for b := 0; b < len(c.Edges)-1; b++ {
				names = append(names, planner.HistogramBin(c.Name, b))
			}
		}
		var at []int
		for _, name := range names {
			idx := schema.FieldIndices(name)
			if len(idx) != 1 {
				return nil, fmt.Errorf("differential privacy: column %q appears %d times in the bounded result", name, len(idx))
			}
			at = append(at, idx[0])
		}
		g, sigma2, err := c.calibrate()
		if err != nil {
			return nil, err
		}
		cols[i] = noisyColumn{DPColumn: *c, idx: at[0], grid: g, sigma2: sigma2}
		if c.Kind == DPHistogram {
			cols[i].binIdx = at
		}
	}
	p.releasedSigmas()
	return cols, nil
}

// releasedSigmas turns a centered sum's Sigma (so far the noise on its
// deviations) into the noise of the released sum, Σ(x−m) + m·count:
// σ² = σ'² + m²·σ_count².
func (p *DPPlan) releasedSigmas() {
	sigma := map[string]float64{}
	for _, c := range p.Columns {
		sigma[c.Name] = c.Sigma
	}
	for i := range p.Columns {
		c := &p.Columns[i]
		if c.Kind != DPSum || c.CountOf == "" {
			continue
		}
		c.CenteredSigma = sigma[c.Name]
		c.Sigma = math.Sqrt(c.CenteredSigma*c.CenteredSigma + c.Center*c.Center*sigma[c.CountOf]*sigma[c.CountOf])
	}
}

// Calibrate sets every column's Sigma to the noise ApplyDP adds, so an
// explain can show it before anything runs.
func (p *DPPlan) Calibrate() error {
	for i := range p.Columns {
		if _, _, err := p.Columns[i].calibrate(); err != nil {
			return err
		}
	}
	p.releasedSigmas()
	return nil
}

// calibrate fixes c's discretisation and noise: the grid its values are
// released on, the discrete Gaussian's σ² in grid units, and c.Sigma in
// value units.
func (c *DPColumn) calibrate() (grid_, sigma2 *big.Rat, err error) {
	grid_ = big.NewRat(1, 1)
	sens, sens2 := c.Sensitivity, new(big.Rat).Set(c.sens2)
	if c.Kind == DPSum || c.Kind == DPVar {
		// Counts (rows, units, histogram bins) are integers and take integer
		// noise as they are. A sum is rounded to the grid g first: each of
		// the at most N groups one unit touches then moves by at most g
		// more, so the L2 sensitivity grows by w = √N·g, and
		// (Δ+w)² <= Δ² + 2·Δ⁺·w⁺ + N·g² with Δ⁺ >= Δ, w⁺ >= w.
		grid_ = grid(c.Sensitivity)
		g, _ := grid_.Float64()
		n := max(c.groups, 1)
		w := math.Sqrt(float64(n)) * g
		up := new(big.Rat).SetFloat64(c.Sensitivity * (1 + 1e-9))
		wUp := new(big.Rat).SetFloat64(w * (1 + 1e-9))
		sens2.Add(sens2, new(big.Rat).Mul(big.NewRat(2, 1), new(big.Rat).Mul(up, wUp)))
		sens2.Add(sens2, new(big.Rat).Mul(big.NewRat(n, 1), new(big.Rat).Mul(grid_, grid_)))
		sens += w
	}
	den := new(big.Rat).SetFloat64(2 * c.Rho)
	if den == nil || den.Sign() <= 0 {
		return nil, nil, fmt.Errorf("differential privacy: column %q: rho %v must be > 0", c.Name, c.Rho)
	}
	g2 := new(big.Rat).Mul(grid_, grid_)
	sigma2 = new(big.Rat).Quo(new(big.Rat).Quo(sens2, g2), den)
	c.Sigma = sens / math.Sqrt(2*c.Rho)
	return grid_, sigma2, nil
}

func (p *DPPlan) applyBatch(ctx context.Context, b arrow.RecordBatch, cols []noisyColumn, noise NoiseSource) (arrow.RecordBatch, error) {
	n := int(b.NumRows())
	noisy := make(map[string][]float64, len(cols))
	draw := func(c noisyColumn, arr arrow.Array, key string) error {
		vals := make([]float64, n)
		for r := 0; r < n; r++ {
			v, err := exactCell(arr, r)
			if err != nil {
				return fmt.Errorf("column %q: %w", key, err)
			}
			units := roundRat(new(big.Rat).Quo(v, c.grid))
			z, err := noise.DiscreteGaussian(c.sigma2)
			if err != nil {
				return fmt.Errorf("column %q: draw noise: %w", key, err)
			}
			units.Add(units, z)
			f, _ := new(big.Rat).Mul(new(big.Rat).SetInt(units), c.grid).Float64()
			if (c.Kind == DPCount || c.Kind == DPHistogram) && f < 0 {
				f = 0 // post-processing: a count is never negative
			}
			vals[r] = f
		}
		noisy[key] = vals
		return nil
	}
	for _, c := range cols {
		if c.Kind != DPHistogram {
			if err := draw(c, b.Column(c.idx), c.Name); err != nil {
				return nil, err
			}
			continue
		}
		for bin, j := range c.binIdx {
			if err := draw(c, b.Column(j), planner.HistogramBin(c.Name, bin)); err != nil {
				return nil, err
			}
		}
	}
	keep := make([]bool, n)
	for r := range keep {
		keep[r] = p.Threshold <= 0 || noisy[p.CountColumn][r] >= float64(p.Threshold)
	}

	mem := memory.DefaultAllocator
	fields := make([]arrow.Field, b.NumCols())
	arrs := make([]arrow.Array, b.NumCols())
	skip := map[int]bool{} // a histogram's bins after the first: folded into one sketch
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	mb := array.NewBooleanBuilder(mem)
	mb.AppendValues(keep, nil)
	mask := mb.NewArray()
	mb.Release()
	defer mask.Release()
	byIdx := make(map[int]noisyColumn, len(cols))
	for _, c := range cols {
		byIdx[c.idx] = c
		for _, j := range c.binIdx[min(1, len(c.binIdx)):] {
			skip[j] = true
		}
	}
	for j := 0; j < int(b.NumCols()); j++ {
		f := b.Schema().Field(j)
		if skip[j] {
			continue
		}
		c, isNoisy := byIdx[j]
		if !isNoisy {
			kept, err := compute.FilterArray(ctx, b.Column(j), mask, *compute.DefaultFilterOptions())
			if err != nil {
				return nil, fmt.Errorf("release groups: column %q: %w", f.Name, err)
			}
			fields[j], arrs[j] = f, kept
			continue
		}
		switch c.Kind {
		case DPCount:
			bld := array.NewInt64Builder(mem)
			for r, k := range keep {
				if k {
					bld.Append(int64(noisy[c.Name][r]))
				}
			}
			fields[j] = arrow.Field{Name: f.Name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}
			arrs[j] = bld.NewArray()
			bld.Release()
		case DPSum:
			bld := array.NewFloat64Builder(mem)
			for r, k := range keep {
				if !k {
					continue
				}
				v := noisy[c.Name][r]
				if c.CountOf != "" {
					// Deviations from the center, plus the center times
					// the column's noisy count: post-processing only.
					v += c.Center * noisy[c.CountOf][r]
				}
				bld.Append(v)
			}
			fields[j] = arrow.Field{Name: f.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}
			arrs[j] = bld.NewArray()
			bld.Release()
		case DPHistogram:
			bld := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			mids := make([]float64, len(c.Edges)-1)
			for i := range mids {
				mids[i] = (c.Edges[i] + c.Edges[i+1]) / 2
			}
			for r, k := range keep {
				if !k {
					continue
				}
				w := make([]float64, len(mids))
				for i := range w {
					w[i] = noisy[planner.HistogramBin(c.Name, i)][r]
				}
				sk, err := merge.HistogramSketch(mids, w)
				if err != nil {
					bld.Release()
					return nil, fmt.Errorf("column %q: %w", c.Name, err)
				}
				bld.Append(sk)
			}
			fields[j] = arrow.Field{Name: c.Name, Type: arrow.BinaryTypes.Binary, Nullable: true}
			arrs[j] = bld.NewArray()
			bld.Release()
		case DPDistinct:
			bld := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			for r, k := range keep {
				if !k {
					continue
				}
				n := int64(math.Max(0, math.Round(noisy[c.Name][r])))
				sk, err := merge.SyntheticHLL(n, fmt.Sprintf("%s\x00%s\x00%d", p.Salt, c.Name, r))
				if err != nil {
					bld.Release()
					return nil, fmt.Errorf("column %q: %w", c.Name, err)
				}
				bld.Append(sk)
			}
			fields[j] = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.Binary, Nullable: true}
			arrs[j] = bld.NewArray()
			bld.Release()
		case DPVar:
			bld := array.NewFloat64Builder(mem)
			for r, k := range keep {
				if !k {
					continue
				}
				// sum and sq are of deviations from the same center, which
				// the variance does not depend on.
				cnt, sum, sq := noisy[c.VarCount][r], noisy[c.VarSum][r], noisy[c.Name][r]
				if cnt <= 0 {
					bld.AppendNull()
					continue
				}
				mean := sum / cnt
				v := sq/cnt - mean*mean
				v = math.Min(math.Max(v, 0), c.Bound*c.Bound) // post-processing into the possible range
				bld.Append(v)
			}
			fields[j] = arrow.Field{Name: f.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}
			arrs[j] = bld.NewArray()
			bld.Release()
		}
	}
	rows := int64(0)
	for _, k := range keep {
		if k {
			rows++
		}
	}
	outFields, outArrs := fields[:0:0], arrs[:0:0]
	for j := range fields {
		if !skip[j] {
			outFields, outArrs = append(outFields, fields[j]), append(outArrs, arrs[j])
		}
	}
	md := b.Schema().Metadata()
	return array.NewRecordBatch(arrow.NewSchema(outFields, &md), outArrs, rows), nil
}

// exactCell reads a numeric cell exactly; NULL (an aggregate over no
// values) reads as 0.
func exactCell(a arrow.Array, r int) (*big.Rat, error) {
	if a.IsNull(r) {
		return new(big.Rat), nil
	}
	switch c := a.(type) {
	case *array.Int8:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Int16:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Int32:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Int64:
		return big.NewRat(c.Value(r), 1), nil
	case *array.Uint8:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Uint16:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Uint32:
		return big.NewRat(int64(c.Value(r)), 1), nil
	case *array.Uint64:
		return new(big.Rat).SetInt(new(big.Int).SetUint64(c.Value(r))), nil
	case *array.Float32:
		return ratOfFloat(float64(c.Value(r)))
	case *array.Float64:
		return ratOfFloat(c.Value(r))
	case *array.Decimal128:
		scale := c.DataType().(*arrow.Decimal128Type).Scale
		return scaled(decimal128Int(c.Value(r)), scale), nil
	case *array.Decimal256:
		scale := c.DataType().(*arrow.Decimal256Type).Scale
		return scaled(decimal256Int(c.Value(r)), scale), nil
	}
	return nil, fmt.Errorf("type %s is not a number", a.DataType())
}

func ratOfFloat(f float64) (*big.Rat, error) {
	r := new(big.Rat).SetFloat64(f)
	if r == nil {
		return nil, fmt.Errorf("value is not finite")
	}
	return r, nil
}

func decimal128Int(n decimal128.Num) *big.Int { return n.BigInt() }

func decimal256Int(n decimal256.Num) *big.Int { return n.BigInt() }

func scaled(u *big.Int, scale int32) *big.Rat {
	r := new(big.Rat).SetInt(u)
	if scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	}
	if scale < 0 {
		return r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil)))
	}
	return r
}

// roundRat rounds r to the nearest integer, halves away from zero.
func roundRat(r *big.Rat) *big.Int {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	twice := new(big.Int).Mul(num, big.NewInt(2))
	if num.Sign() >= 0 {
		twice.Add(twice, den)
	} else {
		twice.Sub(twice, den)
	}
	return twice.Quo(twice, new(big.Int).Mul(den, big.NewInt(2)))
}

// OutputSchema is the schema of ApplyDP's batches for a bounded result of
// schema in: counts become Int64, sums and variances Float64, keys stay.
func (p *DPPlan) OutputSchema(in *arrow.Schema) *arrow.Schema {
	kinds := make(map[string]DPKind, len(p.Columns))
	bins := map[string]string{} // bin column → its histogram output
	for _, c := range p.Columns {
		kinds[c.Name] = c.Kind
		for b := 0; c.Kind == DPHistogram && b < len(c.Edges)-1; b++ {
			bins[planner.HistogramBin(c.Name, b)] = c.Name
		}
	}
	fields := make([]arrow.Field, 0, in.NumFields())
	for _, f := range in.Fields() {
		if out, ok := bins[f.Name]; ok {
			if f.Name == planner.HistogramBin(out, 0) {
				fields = append(fields, arrow.Field{Name: out, Type: arrow.BinaryTypes.Binary, Nullable: true})
			}
			continue
		}
		switch kinds[f.Name] {
		case DPCount:
			f = arrow.Field{Name: f.Name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}
		case DPSum, DPVar:
			f = arrow.Field{Name: f.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}
		case DPDistinct:
			f = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.Binary, Nullable: true}
		}
		fields = append(fields, f)
	}
	md := in.Metadata()
	return arrow.NewSchema(fields, &md)
}

// CellInt reads an integer cell of any integer or scale-0 decimal type; nil
// for NULL.
func CellInt(a arrow.Array, r int) (*int64, error) {
	if a.IsNull(r) {
		return nil, nil
	}
	v, err := exactCell(a, r)
	if err != nil {
		return nil, err
	}
	if !v.IsInt() || !v.Num().IsInt64() {
		return nil, fmt.Errorf("value is not a 64-bit integer")
	}
	n := v.Num().Int64()
	return &n, nil
}
