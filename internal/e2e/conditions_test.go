package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"testing"
)

// TestConditionInsideAnAggregateIsAGroup: a condition inside an aggregate
// picks out part of a large group; when that part is a handful of rows, the
// aggregate is one person's value. The minimum group size applies to the
// part too, so such a group is suppressed like a small group, while the
// same aggregate over a condition that picks out many rows is answered.
func TestConditionInsideAnAggregateIsAGroup(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{})
	// A rare combination at site a: 1 to 9 islands rows of one year and status.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var year, n int64
	var status string
	err = db.QueryRow(fmt.Sprintf(`SELECT year, status, count(*) FROM read_parquet('%s') WHERE region = 'islands' AND status IS NOT NULL
		GROUP BY year, status HAVING count(*) BETWEEN 1 AND 9 ORDER BY year, status LIMIT 1`, sharedFixture(t).files["a"].Sales)).Scan(&year, &status, &n)
	if err != nil {
		t.Fatalf("find a rare combination at site a: %v", err)
	}
	rare := fmt.Sprintf("region = 'islands' AND year = %d AND status = '%s'", year, status)
	cases := []struct {
		name, sql  string
		suppressed bool
	}{
		{"a rare combination inside SUM", "SELECT SUM(CASE WHEN " + rare + " THEN amount ELSE 0 END) AS s FROM sales WHERE _site = 'a'", true},
		{"the same as a count", "SELECT COUNT(CASE WHEN " + rare + " THEN 1 END) AS n FROM sales WHERE _site = 'a'", true},
		{"its complement", "SELECT SUM(CASE WHEN NOT (" + rare + ") THEN amount ELSE 0 END) AS s FROM sales WHERE _site = 'a'", true},
		{"a common condition", "SELECT SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) AS s FROM sales WHERE _site = 'a'", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := fed.query(tc.sql)
			if r.Status != http.StatusOK {
				t.Fatalf("HTTP %d: %+v", r.Status, r.Error)
			}
			if r.Suppressed != tc.suppressed {
				t.Fatalf("suppressed = %v, want %v (the condition holds for %d rows); rows %v", r.Suppressed, tc.suppressed, n, r.Rows)
			}
			if tc.suppressed && r.Rows[0][0] != nil {
				t.Errorf("a suppressed answer shows %v, want NULL", r.Rows[0][0])
			}
		})
	}
}
