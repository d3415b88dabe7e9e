package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestIsolationAttacksAreRefusedBySites runs the isolation attacks of the
// default bundle's exact mode end to end: each query would reveal one
// person's value from an allowed-looking aggregate, and every site must
// refuse it, naming the rule.
func TestIsolationAttacksAreRefusedBySites(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{})
	const join = ` FROM sales JOIN customers ON sales.customer_id = customers.customer_id `
	for _, tc := range []struct{ name, sql, rule string }{
		{"quasi-identifiers inside SUM over a large group",
			`SELECT sales.region, SUM(CASE WHEN customers.segment = 'consumer' AND customers.country = 'DE' AND customers.birth_year = 1980 THEN sales.amount ELSE 0 END) AS s` + join + `GROUP BY sales.region`,
			"fedmesh.isolating_aggregate"},
		{"a quasi-identifier predicate cast into arithmetic",
			`SELECT sales.region, SUM(sales.amount * CAST(customers.birth_year = 1980 AS integer)) AS s` + join + `GROUP BY sales.region`,
			"fedmesh.isolating_aggregate"},
		{"a filter combining quasi-identifiers",
			`SELECT sales.region, SUM(sales.amount) AS s` + join + `WHERE customers.country = 'DE' AND customers.birth_year = 1980 GROUP BY sales.region`,
			"fedmesh.isolating_filter"},
		{"its complement, for differencing",
			`SELECT SUM(sales.amount) AS s` + join + `WHERE NOT (customers.country = 'DE' AND customers.birth_year = 1980)`,
			"fedmesh.isolating_filter"},
		{"an identifier in a filter", `SELECT SUM(amount) AS s FROM sales WHERE customer_id = 7`, "fedmesh.denied_columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fed.query(tc.sql)
			if r.Status != http.StatusForbidden || r.Error == nil {
				t.Fatalf("HTTP %d, rows %v: want 403 naming %s", r.Status, r.Rows, tc.rule)
			}
			if got := strings.Join(r.Error.Reasons, " | "); !strings.Contains(got, tc.rule) {
				t.Errorf("reasons %q, want %s", got, tc.rule)
			}
		})
	}
}
