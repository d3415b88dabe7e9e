package policy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

func readSchema(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("schema", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// matchSchema validates doc against schema with OPA's own JSON Schema
// validator (the json.match_schema builtin), returning its errors.
func matchSchema(t *testing.T, doc any, schema map[string]any) []string {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := util.UnmarshalJSON(raw, &generic); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(
		rego.Query("x := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": generic, "schema": schema}),
	).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("json.match_schema: %v (%d results)", err, len(rs))
	}
	res := rs[0].Bindings["x"].([]any)
	if res[0].(bool) {
		return nil
	}
	var errs []string
	for _, e := range res[1].([]any) {
		m := e.(map[string]any)
		errs = append(errs, m["field"].(string)+": "+m["desc"].(string))
	}
	return errs
}

func filteredPlan() *planner.SubPlan {
	sp := salesPlan()
	sp.Filter = planner.Call(planner.OpAnd,
		planner.Call(planner.OpGt, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindFloat, Float: 2.5})),
		planner.Call(planner.OpIn, planner.Col("region"), planner.Lit(planner.Value{Kind: planner.KindString, Str: "north"})),
		planner.Call(planner.OpIsNotNull, planner.Col("customer_id")),
	)
	sp.Aggs = append(sp.Aggs, planner.OutputColumn{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggSum,
		Arg: planner.Call(planner.OpMul, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 2}))}})
	return sp
}

func TestInputsMatchTheInputSchema(t *testing.T) {
	t.Parallel()
	schema := readSchema(t, "input.v1.json")
	withRecent := policy.NewInput(salesPlan())
	withRecent.Analyst.RecentQueries = 7
	for name, in := range map[string]policy.Input{
		"aggregate":          policy.NewInput(salesPlan()),
		"star":               policy.NewInput(starPlan()),
		"filter and exprs":   policy.NewInput(filteredPlan()),
		"recent queries set": withRecent,
	} {
		if errs := matchSchema(t, in, schema); len(errs) > 0 {
			t.Errorf("%s: NewInput output does not match schema/input.v1.json: %v", name, errs)
		}
	}
	// The schema is strict enough to catch drift.
	bad := map[string]any{}
	raw, _ := json.Marshal(policy.NewInput(salesPlan()))
	_ = json.Unmarshal(raw, &bad)
	bad["plan"].(map[string]any)["kind"] = "join"
	bad["extra"] = true
	if errs := matchSchema(t, bad, schema); len(errs) < 2 {
		t.Errorf("an input with an unknown kind and key matched the schema (errors %v)", errs)
	}
}

// TestBundleDecisionsMatchTheDecisionSchema evaluates the default bundle and
// a library bundle on real inputs and validates what they produce.
func TestBundleDecisionsMatchTheDecisionSchema(t *testing.T) {
	t.Parallel()
	schema := readSchema(t, "decision.v1.json")
	if diff := cmp.Diff(readSchema(t, "input.v1.json")["definitions"], schema["definitions"]); diff != "" {
		t.Errorf("decision.v1.json definitions differ from input.v1.json's (-input +decision):\n%s", diff)
	}
	inputs := []policy.Input{policy.NewInput(salesPlan()), policy.NewInput(starPlan()), policy.NewInput(filteredPlan())}
	for _, paths := range [][]string{
		{"bundles/default/policy.rego", "bundles/default/dp.rego", "bundles/default/data.json"},
		{"library", "testdata/library_main"},
	} {
		for i, in := range inputs {
			rs, err := rego.New(rego.Query(policy.DecisionPath), rego.Load(paths, nil), rego.Input(in)).Eval(context.Background())
			if err != nil || len(rs) != 1 {
				t.Fatalf("%v input %d: %v (%d results)", paths, i, err, len(rs))
			}
			if errs := matchSchema(t, rs[0].Expressions[0].Value, schema); len(errs) > 0 {
				t.Errorf("%v input %d: decision does not match schema/decision.v1.json: %v", paths, i, errs)
			}
		}
	}
	bad := map[string]any{"allow": true, "reasons": []string{}, "obligations": map[string]any{"row_filter": map[string]any{"op": "sql"}}}
	if errs := matchSchema(t, bad, schema); len(errs) < 2 {
		t.Errorf("an allow without min_group_size and with a bad row filter matched the schema (errors %v)", errs)
	}
}

// TestPoliciesTypeCheckAgainstTheInputSchema compiles the default bundle and
// the library with the input schema, as OPA's compiler does with
// --schema: a reference to an input field the contract lacks is an error.
func TestPoliciesTypeCheckAgainstTheInputSchema(t *testing.T) {
	t.Parallel()
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, readSchema(t, "input.v1.json"))
	compile := func(paths []string, extra string) error {
		opts := []func(*rego.Rego){rego.Query(policy.DecisionPath), rego.Load(paths, nil), rego.Schemas(ss)}
		if extra != "" {
			opts = append(opts, rego.Module("extra.rego", extra))
		}
		_, err := rego.New(opts...).PrepareForEval(context.Background())
		return err
	}
	if err := compile([]string{"bundles/default/policy.rego", "bundles/default/dp.rego"}, ""); err != nil {
		t.Errorf("default bundle: %v", err)
	}
	if err := compile([]string{"library", "testdata/library_main"}, ""); err != nil {
		t.Errorf("library: %v", err)
	}
	typo := "package fedmesh.library.typo\n\ndeny contains \"x\" if input.plan.kindd == \"rows\"\n"
	if err := compile([]string{"library", "testdata/library_main"}, typo); err == nil || !strings.Contains(err.Error(), "kindd") {
		t.Errorf("a policy reading input.plan.kindd compiled against the schema (err %v)", err)
	}
}
