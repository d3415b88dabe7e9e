package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/enginebridge"
)

// guardSalesCSV: customer 5 placed the only order of 999; customer 6 both
// of east's orders.
const guardSalesCSV = `order_id,customer_id,region,amount
1,1,north,10
2,2,north,20
3,3,north,30
4,4,north,40
5,5,north,999
6,6,east,5
7,6,east,6
8,7,north,50
9,8,north,60
10,9,north,70
11,10,north,80
12,11,north,90
`

// TestPolicyGuardsAcrossQueries runs the default bundle's exact-mode guards
// over a federation: an allowed subtraction of two answers that isolates one
// customer is refused by the difference check; the minimum group size
// counts customers, not orders; suppressed groups are reported only as a
// flag; and a site's rate limit refuses the analyst's next query.
func TestPolicyGuardsAcrossQueries(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(csv, []byte(guardSalesCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	tables := map[string][]enginebridge.TableSource{}
	for _, s := range sites3 {
		tables[s] = []enginebridge.TableSource{{Name: "sales", Format: "csv", Path: csv}}
	}
	fed := startFederation(t, fedOptions{guarded: true, minGroupSize: 2, tables: tables, maxQueries: 4})

	// 1: allowed; east (two orders, one customer) is suppressed, and the
	// answer says only that something was.
	r := fed.query("SELECT region, SUM(amount) FROM sales GROUP BY region")
	if r.Status != 200 || len(r.Rows) != 1 || r.SuppressedReport != "flag" || r.SuppressedGroups != 1 {
		t.Fatalf("by region: HTTP %d rows %v suppressed %d (%s) error %+v, want north only and a flag", r.Status, r.Rows, r.SuppressedGroups, r.SuppressedReport, r.Error)
	}
	for _, s := range r.Sites {
		if s.SuppressedGroups > 1 {
			t.Errorf("site %s reports %d suppressed groups, want a flag", s.Site, s.SuppressedGroups)
		}
	}
	// 2: north without the order of 999 is north minus customer 5.
	r = fed.query("SELECT region, SUM(amount) FROM sales WHERE amount <> 999 GROUP BY region")
	if r.Status != 403 || r.Error == nil || !strings.Contains(strings.Join(r.Error.Reasons, " "), "difference check") {
		t.Fatalf("subtraction: HTTP %d error %+v, want a difference-check refusal", r.Status, r.Error)
	}
	// 3: the first answer again is allowed (it reveals nothing new).
	if r = fed.query("SELECT region, SUM(amount) FROM sales GROUP BY region"); r.Status != 200 {
		t.Fatalf("repeat: HTTP %d %+v", r.Status, r.Error)
	}
	// 4 was the fourth query at every site; the fifth is over the limit.
	if r = fed.query("SELECT region, COUNT(*) FROM sales GROUP BY region"); r.Status != 200 {
		t.Fatalf("fourth query: HTTP %d %+v", r.Status, r.Error)
	}
	r = fed.query("SELECT region, COUNT(*) FROM sales GROUP BY region")
	if r.Status == 200 || r.Error == nil || !strings.Contains(strings.Join(r.Error.Reasons, " "), "rate_limit") {
		t.Fatalf("fifth query: HTTP %d %+v, want a rate-limit refusal", r.Status, r.Error)
	}
}
