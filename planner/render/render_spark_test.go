package render

import (
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
)

// TestSparkRenderLeavesNoVariableReference renders a hand-made sub-plan
// whose literals hold Spark variable references: Spark would expand ${...}
// in the SQL text (spark.sql.variable.substitute) before parsing, so the
// rendered text must hold no "${" at all.
func TestSparkRenderLeavesNoVariableReference(t *testing.T) {
	t.Parallel()
	str := func(s string) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindString, Str: s}) }
	sp := &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q", Site: "a", Kind: planner.KindAggregate, Table: "sales",
		Filter: planner.Call(planner.OpOr,
			planner.Call(planner.OpEq, planner.Col("region"), str("${env:HOME}")),
			planner.Call(planner.OpIn, planner.Col("region"), str("${hivevar:x}"), str("$${system:user.name}}")),
			planner.Call(planner.OpLike, planner.Col("region"), str("%${var}%")),
		),
		GroupBy:     []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs:        []planner.OutputColumn{{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}}},
		CountColumn: "a0",
	}
	sql, args, err := Render(sp, Spark{})
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 0 {
		t.Errorf("Spark got bound args %v; it takes literals inline", args)
	}
	if strings.Contains(sql, "${") || strings.Contains(sql, "$") {
		t.Errorf("rendered Spark SQL holds a dollar sign Spark could substitute:\n%s", sql)
	}
	if !strings.Contains(sql, `concat(chr(36), '{env:HOME}')`) {
		t.Errorf("rendered Spark SQL does not write ${env:HOME} as concat(chr(36), ...):\n%s", sql)
	}
}
