package policy_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/policy"
)

// TestDefaultBundleRefusesIsolation runs isolation attacks and the
// legitimate queries next to them through the planner and the default
// bundle, so that the Rego tests' hand-written inputs cannot drift from what
// the planner really sends (AVG split into sum and count, sketches, join
// qualification).
func TestDefaultBundleRefusesIsolation(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	const join = ` FROM sales JOIN customers ON sales.customer_id = customers.customer_id `
	tests := []struct {
		name, sql string
		deny      string // prefix of a reason, "" for allowed
	}{
		// Conditions on quasi-identifiers inside aggregates.
		{"case over quasi-identifiers", `SELECT sales.region, SUM(CASE WHEN customers.segment = 'x' AND customers.country = 'DE' AND customers.birth_year = 1980 THEN sales.amount ELSE 0 END)` + join + `GROUP BY sales.region`, "fedmesh.isolating_aggregate:"},
		{"cast predicate times amount", `SELECT sales.region, SUM(sales.amount * CAST(customers.birth_year = 1980 AS integer))` + join + `GROUP BY sales.region`, "fedmesh.isolating_aggregate:"},
		{"coalesce of case", `SELECT sales.region, SUM(COALESCE(CASE WHEN customers.country = 'DE' THEN sales.amount END, 0))` + join + `GROUP BY sales.region`, "fedmesh.isolating_aggregate:"},
		{"not", `SELECT region, SUM(amount * CAST(NOT (zip <> '10115') AS integer)) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"in", `SELECT region, SUM(CASE WHEN zip IN ('10115') THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"between", `SELECT region, SUM(CASE WHEN birth_year BETWEEN 1980 AND 1980 THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"like", `SELECT region, SUM(CASE WHEN email LIKE 'bob@%' THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"is null", `SELECT region, SUM(CASE WHEN zip IS NULL THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"nested case", `SELECT region, SUM(CASE WHEN status = 'paid' THEN CASE WHEN birth_year = 1980 THEN amount END END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"avg of case", `SELECT region, AVG(CASE WHEN country = 'DE' THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"variance of case", `SELECT region, VAR_POP(CASE WHEN country = 'DE' THEN amount END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"count of case", `SELECT region, COUNT(CASE WHEN birth_year = 1980 THEN 1 END) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"integer-division indicator", `SELECT region, SUM(amount * (1 / (1 + (CAST(birth_year AS integer) - 1980) * (CAST(birth_year AS integer) - 1980)))) FROM sales GROUP BY region`, "fedmesh.isolating_aggregate:"},
		{"case over a status column", `SELECT region, SUM(CASE WHEN status = 'paid' THEN amount END) FROM sales GROUP BY region`, ""},
		{"group by quasi-identifiers", `SELECT customers.country, customers.birth_year, SUM(sales.amount)` + join + `GROUP BY customers.country, customers.birth_year`, ""},
		{"avg of a quasi-identifier", `SELECT region, AVG(birth_year) FROM sales GROUP BY region`, ""},
		// Extremes of sensitive columns.
		{"max", `SELECT MAX(amount) FROM sales`, "fedmesh.minmax_sensitive:"},
		{"min per group", `SELECT region, MIN(amount) FROM sales GROUP BY region`, "fedmesh.minmax_sensitive:"},
		{"max of an expression", `SELECT MAX(amount * 2) FROM sales`, "fedmesh.minmax_sensitive:"},
		{"max in a join", `SELECT customers.country, MAX(sales.amount)` + join + `GROUP BY customers.country`, "fedmesh.minmax_sensitive:"},
		{"percentile_cont", `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY amount) FROM sales`, "fedmesh.minmax_sensitive:"},
		{"median", `SELECT approx_quantile(amount, 0.5) FROM sales`, "fedmesh.minmax_sensitive:"},
		{"max of a permitted column", `SELECT region, MAX(year) FROM sales GROUP BY region`, ""},
		{"percentile of a permitted column", `SELECT approx_quantile(year, 0.5) FROM sales`, ""},
		{"sum, avg, count, variance of amount", `SELECT region, SUM(amount), AVG(amount), COUNT(amount), VAR_POP(amount) FROM sales GROUP BY region`, ""},
		// Filters.
		{"equality on an identifier", `SELECT SUM(amount) FROM sales WHERE email = 'bob@example.org'`, "fedmesh.isolating_filter:"},
		{"narrow range on an identifier", `SELECT SUM(amount) FROM sales WHERE email >= 'bob@' AND email < 'boc'`, "fedmesh.isolating_filter:"},
		{"between on an identifier", `SELECT SUM(amount) FROM sales WHERE name BETWEEN 'Bob' AND 'Bob'`, "fedmesh.isolating_filter:"},
		{"two quasi-identifiers", `SELECT sales.region, SUM(sales.amount)` + join + `WHERE customers.country = 'DE' AND customers.birth_year = 1980 GROUP BY sales.region`, "fedmesh.isolating_filter:"},
		{"complement of two quasi-identifiers", `SELECT SUM(amount) FROM sales WHERE NOT (country = 'DE' AND birth_year = 1980)`, "fedmesh.isolating_filter:"},
		{"null test on an identifier", `SELECT region, COUNT(*) FROM sales WHERE email IS NOT NULL GROUP BY region`, ""},
		{"one quasi-identifier and a date", `SELECT region, SUM(amount) FROM sales WHERE country = 'DE' AND year >= 2021 GROUP BY region`, ""},
		{"one quasi-identifier twice", `SELECT region, SUM(amount) FROM sales WHERE birth_year >= 1970 AND birth_year < 1980 GROUP BY region`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := policy.NewInput(sketchPlan(t, tc.sql))
			// A join with customers is differentially private in the default
			// bundle, which needs a verified analyst; these are exact-mode
			// checks, and the isolation rules apply in both modes.
			in.Analyst.Verified = true
			dec, err := p.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			reasons := strings.Join(dec.Reasons, "\n")
			raw, _ := json.Marshal(in.Plan)
			switch {
			case tc.deny == "" && !dec.Allow:
				t.Errorf("denied:\n%s\ninput plan: %s", reasons, raw)
			case tc.deny != "" && (dec.Allow || !strings.Contains("\n"+reasons, "\n"+tc.deny)):
				t.Errorf("allow=%v reasons:\n%s\nwant a denial by %s; input plan: %s", dec.Allow, reasons, tc.deny, raw)
			}
		})
	}
}
