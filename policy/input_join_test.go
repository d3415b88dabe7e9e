package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestNewInputJoinListsBothTablesAndJoinKeys(t *testing.T) {
	q, err := sqlfront.Parse(`SELECT c.segment, SUM(s.amount) FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment`)
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"a"}, planner.SubPlanMeta{QueryID: "q"})[0]
	in := NewInput(sp)
	if d := cmp.Diff([]string{"sales", "customers"}, in.Plan.Tables); d != "" {
		t.Errorf("tables (-want +got):\n%s", d)
	}
	var keys []planner.ColumnUse
	for _, u := range in.Plan.Columns {
		if u.Use == planner.UseJoinKey {
			keys = append(keys, u)
		}
	}
	want := []planner.ColumnUse{{Table: "sales", Column: "customer_id", Use: "join_key"}, {Table: "customers", Column: "customer_id", Use: "join_key"}}
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("join keys (-want +got):\n%s", d)
	}
}
