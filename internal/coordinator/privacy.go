package coordinator

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/policy"
)

// z95 is the two-sided 95% quantile of the normal distribution; a sum of
// independent discrete Gaussians is close to normal.
const z95 = 1.959963984540054

// PrivacyAnswer says how a differentially private answer was made: what
// each site charged the analyst and has left, and the noise in each column.
type PrivacyAnswer struct {
	Sites   []SiteCharge  `json:"sites"`
	Columns []NoisyColumn `json:"columns"`
}

// SiteCharge is one site's charge for this query and the analyst's budget
// left there (zCDP ρ; the (ε, δ) the query's guarantee amounts to).
type SiteCharge struct {
	Site      string              `json:"site"`
	Table     string              `json:"table"`
	Epsilon   float64             `json:"epsilon"`
	Delta     float64             `json:"delta"`
	Rho       float64             `json:"rho"`
	Threshold int64               `json:"threshold,omitempty"`
	Budget    []policy.BudgetLeft `json:"budget"`
}

// NoisyColumn is the noise in one answer column: its standard deviation
// and the half-width of a 95% interval around each value, when the same for
// every row (sums, counts), or an interval per row (averages, from the
// delta method; null for a row whose average is NULL or whose merged count
// is not positive); otherwise a note.
type NoisyColumn struct {
	Name      string        `json:"name"`
	NoiseSD   *float64      `json:"noise_sd,omitempty"`
	CI95      *float64      `json:"ci95_halfwidth,omitempty"`
	Intervals []*[2]float64 `json:"ci95,omitempty"`
	Note      string        `json:"note,omitempty"`
}

// siteReports reads the sites' privacy reports; nil when every site
// answered exactly.
func siteReports(results []flight.SiteResult) (map[string]policy.DPReport, error) {
	var out map[string]policy.DPReport
	for _, r := range results {
		if r.Meta.Privacy == "" {
			continue
		}
		var rep policy.DPReport
		if err := json.Unmarshal([]byte(r.Meta.Privacy), &rep); err != nil {
			return nil, fmt.Errorf("site %q sent an unreadable privacy report: %w", r.Site, err)
		}
		if out == nil {
			out = map[string]policy.DPReport{}
		}
		out[r.Site] = rep
	}
	return out, nil
}

// dpCountPrefix names the hidden outputs that carry an average's merged
// count, from which its interval is computed.
const dpCountPrefix = "fedmesh_dp_count_"

// withAverageCounts returns q with one hidden output per average: the
// merged count it divides by. n is how many were added (strip them from the
// result with stripHidden).
func withAverageCounts(q *planner.Query) (*planner.Query, map[string]string, int) {
	aggs := map[string]planner.MergeAgg{}
	for _, a := range q.Merge.Aggs {
		aggs[a.Name] = a
	}
	out := *q
	out.Merge.Aggs = append([]planner.MergeAgg{}, q.Merge.Aggs...)
	out.Merge.Outputs = append([]planner.Output{}, q.Merge.Outputs...)
	hidden := map[string]string{} // output name → hidden count output
	n := 0
	for _, o := range q.Merge.Outputs {
		if o.Expr == nil || o.Expr.Op != planner.OpColumn {
			continue
		}
		a, ok := aggs[o.Expr.Column]
		if !ok || a.Func != planner.MergeAvg || len(a.Inputs) != 2 {
			continue
		}
		name := fmt.Sprintf("%s%d", dpCountPrefix, n)
		out.Merge.Aggs = append(out.Merge.Aggs, planner.MergeAgg{Name: name, Func: planner.MergeCount, Inputs: []string{a.Inputs[1]}})
		out.Merge.Outputs = append(out.Merge.Outputs, planner.Output{Name: name, Expr: planner.Col(name)})
		hidden[o.Name] = name
		n++
	}
	return &out, hidden, n
}

// stripHidden removes the last n columns of res, returning them by name.
func stripHidden(res *merge.Result, n int) map[string][]any {
	if n == 0 {
		return nil
	}
	keep := len(res.Columns) - n
	hidden := map[string][]any{}
	for j := keep; j < len(res.Columns); j++ {
		col := make([]any, len(res.Rows))
		for i, row := range res.Rows {
			col[i] = row[j]
		}
		hidden[res.Columns[j].Name] = col
	}
	res.Columns = res.Columns[:keep]
	for i := range res.Rows {
		res.Rows[i] = res.Rows[i][:keep]
	}
	return hidden
}

// privacyAnswer builds the answer's privacy section from the sites'
// reports, the plan and the merged rows.
func privacyAnswer(q *planner.Query, reports map[string]policy.DPReport, res *merge.Result, avgCounts map[string]string, hidden map[string][]any) *PrivacyAnswer {
	pa := &PrivacyAnswer{}
	sites := make([]string, 0, len(reports))
	for s := range reports {
		sites = append(sites, s)
	}
	sort.Strings(sites)
	variance := map[string]float64{} // partial column → Σ σ² over sites
	// A sum every site centered on the same value: its center and the
	// variance of the deviations alone (see policy.DPColumn.Center).
	centered := map[string]float64{}
	center := map[string]float64{}
	mixed := map[string]bool{}
	for _, s := range sites {
		r := reports[s]
		pa.Sites = append(pa.Sites, SiteCharge{Site: s, Table: r.Table, Epsilon: r.Epsilon, Delta: r.Delta, Rho: r.Rho, Threshold: r.Threshold, Budget: r.Budget})
		for _, c := range r.Columns {
			variance[c.Name] += c.Sigma * c.Sigma
			if m, seen := center[c.Name]; c.CenteredSigma == 0 || (seen && m != c.Center) {
				mixed[c.Name] = true
			}
			center[c.Name] = c.Center
			centered[c.Name] += c.CenteredSigma * c.CenteredSigma
		}
	}
	aggs := map[string]planner.MergeAgg{}
	for _, a := range q.Merge.Aggs {
		aggs[a.Name] = a
	}
	keys := map[string]bool{}
	for _, k := range q.Merge.Keys {
		keys[k] = true
	}
	for j, o := range q.Merge.Outputs {
		nc := NoisyColumn{Name: o.Name}
		if o.Expr == nil || (o.Expr.Op == planner.OpColumn && keys[o.Expr.Column]) {
			continue // a group key: exact
		}
		a, direct := aggs[o.Expr.Column]
		switch {
		case o.Expr.Op != planner.OpColumn || !direct:
			nc.Note = "computed from noisy aggregates; no interval given"
		case a.Func == planner.MergeApproxDistinct:
			sd := math.Sqrt(variance[a.Inputs[0]])
			half := z95 * sd
			nc.NoiseSD, nc.CI95 = &sd, &half
			nc.Note = "noise on the number of people; the HyperLogLog merge adds its own ±1.62% (see approximate)"
		case a.Func == planner.MergeApproxQuantile:
			nc.Note = "from each site's noisy histogram (32 equal bins of the column's clamp bounds): within about half a bin's width, plus the noise's effect"
		case a.Func == planner.MergeSum || a.Func == planner.MergeCount:
			sd := math.Sqrt(variance[a.Inputs[0]])
			half := z95 * sd
			nc.NoiseSD, nc.CI95 = &sd, &half
		case a.Func == planner.MergeAvg && len(a.Inputs) == 2 && hidden != nil:
			vs, vc := variance[a.Inputs[0]], variance[a.Inputs[1]]
			counts := hidden[avgCounts[o.Name]]
			nc.Intervals = make([]*[2]float64, len(res.Rows))
			for i, row := range res.Rows {
				avg, aok := number(row[j])
				n, nok := number(counts[i])
				if !aok || !nok || n <= 0 {
					continue // no interval (JSON null): there is no estimate to bound
				}
				// Delta method: Var(S/C) ≈ (σ_S² + avg²·σ_C²) / C²; for sums
				// of deviations from a center m (S = S' + m·C),
				// AVG = m + S'/C and Var ≈ (σ_S'² + (avg−m)²·σ_C²) / C².
				half := z95 * math.Sqrt(vs+avg*avg*vc) / n
				if sn := a.Inputs[0]; !mixed[sn] && len(reports) == len(sites) {
					d := avg - center[sn]
					half = z95 * math.Sqrt(centered[sn]+d*d*vc) / n
				}
				nc.Intervals[i] = &[2]float64{avg - half, avg + half}
			}
			nc.Note = "per-row 95% intervals from the delta method"
		default:
			nc.Note = "noisy (" + string(a.Func) + " from noisy sufficient statistics); no interval given"
		}
		pa.Columns = append(pa.Columns, nc)
	}
	return pa
}

// number reads a merged value as a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case merge.Decimal:
		f, err := strconv.ParseFloat(x.String(), 64)
		return f, err == nil
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
