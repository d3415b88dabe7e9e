package coordinator

import (
	"encoding/json"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/policy"
)

// TestPrivacyAnswerEncodesAnAverageWithoutCount: a noisy average whose
// merged count is not positive (NULL average) has no interval; the answer
// says null for that row and still encodes as JSON (a NaN would not).
func TestPrivacyAnswerEncodesAnAverageWithoutCount(t *testing.T) {
	t.Parallel()
	q := &planner.Query{Merge: planner.MergePlan{
		Keys:    []string{"g0"},
		Aggs:    []planner.MergeAgg{{Name: "m0", Func: planner.MergeAvg, Inputs: []string{"a1", "a2"}}},
		Outputs: []planner.Output{{Name: "g", Expr: planner.Col("g0")}, {Name: "avg", Expr: planner.Col("m0")}},
	}}
	reports := map[string]policy.DPReport{"a": {Table: "t", Columns: []policy.DPColumnReport{
		{Name: "a1", Kind: policy.DPSum, Sigma: 10}, {Name: "a2", Kind: policy.DPCount, Sigma: 1}}}}
	mq, avgCounts, n := withAverageCounts(q)
	if n != 1 || len(mq.Merge.Outputs) != 3 {
		t.Fatalf("hidden count outputs: %d, outputs %d", n, len(mq.Merge.Outputs))
	}
	res := &merge.Result{
		Columns: []merge.Column{{Name: "g"}, {Name: "avg"}, {Name: avgCounts["avg"]}},
		Rows:    [][]any{{"x", 5.0, int64(100)}, {"y", nil, int64(0)}},
	}
	hidden := stripHidden(res, n)
	pa := privacyAnswer(q, reports, res, avgCounts, hidden)
	if len(res.Columns) != 2 || len(res.Rows[0]) != 2 {
		t.Fatalf("hidden column not stripped: %v", res.Columns)
	}
	iv := pa.Columns[0].Intervals
	if len(iv) != 2 || iv[0] == nil || iv[1] != nil {
		t.Fatalf("intervals %v, want one for x and none for y", iv)
	}
	if !(iv[0][0] < 5 && 5 < iv[0][1]) {
		t.Errorf("interval %v does not hold the average 5", *iv[0])
	}
	if _, err := json.Marshal(pa); err != nil {
		t.Fatalf("the privacy section does not encode: %v", err)
	}
}
