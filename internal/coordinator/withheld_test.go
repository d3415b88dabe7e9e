package coordinator

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// partialBatch is a site's partial result for q: one row per value in
// rows, every group key and partial of it holding that value.
func partialBatch(t *testing.T, q *planner.Query, rows []int64) arrow.RecordBatch {
	t.Helper()
	var fields []arrow.Field
	for _, o := range append(append([]planner.OutputColumn(nil), q.GroupBy...), q.Partials...) {
		fields = append(fields, arrow.Field{Name: o.Name, Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, v := range rows {
		for i := range fields {
			b.Field(i).(*array.Int64Builder).Append(v)
		}
	}
	return b.NewRecordBatch()
}

// TestGlobalAggregateSuppressedEverywhereIsNotZero: when every site
// withheld the only group of a global aggregate, the answer says so and
// shows NULL, never the merge's COUNT of nothing (0).
func TestGlobalAggregateSuppressedEverywhereIsNotZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		sql            string
		rows           map[string][]int64 // per site
		wantRows       [][]any
		wantSuppressed bool
	}{
		{"every site suppressed", "SELECT COUNT(*) AS n, SUM(amount) AS s FROM sales", map[string][]int64{"a": nil, "b": nil},
			[][]any{{nil, nil}}, true},
		{"one site answered", "SELECT COUNT(*) AS n, SUM(amount) AS s FROM sales", map[string][]int64{"a": nil, "b": {12}},
			nil, false},
		{"grouped: no groups is an empty answer", "SELECT amount, COUNT(*) AS n FROM sales GROUP BY amount", map[string][]int64{"a": nil},
			[][]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := sqlfront.Parse(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			var results []flight.SiteResult
			var parts []merge.Partial
			for site, rows := range tt.rows {
				b := partialBatch(t, q, rows)
				defer b.Release()
				results = append(results, flight.SiteResult{Site: site, Batches: []arrow.RecordBatch{b}})
				parts = append(parts, merge.Partial{Site: site, Batches: []arrow.RecordBatch{b}})
			}
			res, err := merge.Merge(context.Background(), q, parts)
			if err != nil {
				t.Fatal(err)
			}
			ans := &Answer{QueryID: "q", Columns: res.Columns, Rows: res.Rows}
			if ans.Rows == nil {
				ans.Rows = [][]any{}
			}
			merged := ans.Rows
			withholdGlobal(q, results, ans)
			if ans.Suppressed != tt.wantSuppressed {
				t.Errorf("Suppressed = %v, want %v", ans.Suppressed, tt.wantSuppressed)
			}
			want := tt.wantRows
			if want == nil {
				want = merged // unchanged
			}
			if d := cmp.Diff(want, ans.Rows); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
			b, _ := json.Marshal(ans)
			if got := strings.Contains(string(b), `"suppressed":true`); got != tt.wantSuppressed {
				t.Errorf("JSON %s: suppressed flag present = %v, want %v", b, got, tt.wantSuppressed)
			}
		})
	}
}
