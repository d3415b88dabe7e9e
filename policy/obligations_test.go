package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

func unitPlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q", Analyst: "alice", Site: "a", Kind: planner.KindAggregate, Table: "sales",
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
		},
		CountColumn: "a1",
	}
}

func TestApplyToPlan(t *testing.T) {
	t.Parallel()
	consent := planner.Call(planner.OpEq, planner.Col("consent"), planner.Lit(planner.Value{Kind: planner.KindBool, Bool: true}))
	tests := []struct {
		name    string
		o       policy.Obligations
		plan    func() *planner.SubPlan
		applied []policy.Obligation
		units   string // the unit set's argument, "" = none added
		errIs   error
		refused policy.Obligation
	}{
		{name: "difference check adds a unit set", o: policy.Obligations{MinGroupSize: 10, DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id"}},
			plan: unitPlan, units: "customer_id"},
		{name: "qualified in a join", o: policy.Obligations{DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id"}},
			plan: func() *planner.SubPlan {
				sp := unitPlan()
				sp.Join = &planner.Join{Table: "customers", Kind: planner.JoinInner, Keys: []planner.JoinKey{{Left: "customer_id", Right: "customer_id"}}}
				sp.GroupBy[0].Expr = planner.Col("sales.region")
				sp.Aggs[0].Agg.Arg = planner.Col("sales.amount")
				return sp
			}, units: "sales.customer_id"},
		{name: "not under dp", o: policy.Obligations{DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id"}, DP: &policy.DPObligation{}}, plan: unitPlan},
		{name: "row filter and denied columns", o: policy.Obligations{DenyColumns: []string{"ssn"}, RowFilter: consent},
			plan: unitPlan, applied: []policy.Obligation{policy.OblDenyColumns, policy.OblRowFilter}},
		{name: "a unit set from the wire is refused", o: policy.Obligations{},
			plan: func() *planner.SubPlan {
				sp := unitPlan()
				sp.Aggs = append(sp.Aggs, planner.OutputColumn{Name: "u", Agg: &planner.PartialAgg{Func: planner.AggUnitSet, Arg: planner.Col("customer_id")}})
				return sp
			}, errIs: policy.ErrPlanInvalid},
		{name: "rows under a minimum group size", o: policy.Obligations{MinGroupSize: 5},
			plan: func() *planner.SubPlan {
				return &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Site: "a", Kind: planner.KindRows, Table: "sales", Star: true}
			}, refused: policy.OblMinGroupSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := tt.plan()
			applied, err := policy.ApplyToPlan(sp, tt.o)
			var re *policy.RefusedError
			switch {
			case tt.errIs != nil:
				if !errors.Is(err, tt.errIs) {
					t.Fatalf("err = %v, want %v", err, tt.errIs)
				}
				return
			case tt.refused != "":
				if !errors.As(err, &re) || re.Obligation != tt.refused {
					t.Fatalf("err = %v, want a refusal by %s", err, tt.refused)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.applied, applied); diff != "" {
				t.Errorf("applied (-want +got):\n%s", diff)
			}
			got := ""
			for _, a := range sp.Aggs {
				if a.Agg.Func == planner.AggUnitSet {
					got = a.Agg.Arg.Column
				}
			}
			if got != tt.units {
				t.Errorf("unit set over %q, want %q", got, tt.units)
			}
		})
	}
}

func TestSuppressedReport(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode policy.SuppressedReport
		n    int64
		want int64
	}{
		{"", 7, 7}, {policy.ReportExact, 7, 7}, {policy.ReportFlag, 7, 1}, {policy.ReportFlag, 0, 0},
		{policy.ReportCoarse, 7, 1}, {policy.ReportCoarse, 57, 10}, {policy.ReportCoarse, 100, 100}, {policy.ReportNone, 7, 0},
	} {
		if got := tt.mode.Reported(tt.n); got != tt.want {
			t.Errorf("%q.Reported(%d) = %d, want %d", tt.mode, tt.n, got, tt.want)
		}
	}
	// A flagging site makes the total a flag: exact counts of the others
	// plus an exact total would give its count away.
	if n, m := policy.CombineSuppressed([]policy.SuppressedReport{policy.ReportExact, policy.ReportFlag}, []int64{3, 1}); n != 1 || m != policy.ReportFlag {
		t.Errorf("CombineSuppressed(exact 3, flag 1) = %d %s, want 1 flag", n, m)
	}
	if n, m := policy.CombineSuppressed([]policy.SuppressedReport{"", policy.ReportExact}, []int64{3, 4}); n != 7 || m != policy.ReportExact {
		t.Errorf("CombineSuppressed(exact 3, exact 4) = %d %s, want 7 exact", n, m)
	}
}

func TestDecodeGuardObligations(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, obligations, wantErr string
		want                       policy.Obligations
	}{
		{name: "difference check and report", obligations: `{"min_group_size": 10, "difference_check": {"unit": "customer_id"}, "report_suppressed": "flag"}`,
			want: policy.Obligations{MinGroupSize: 10, DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id"}, ReportSuppressed: policy.ReportFlag}},
		{name: "k given", obligations: `{"min_group_size": 10, "difference_check": {"unit": "u", "k": 3}}`,
			want: policy.Obligations{MinGroupSize: 10, DifferenceCheck: &policy.DifferenceCheck{Unit: "u", K: 3}}},
		{name: "no unit", obligations: `{"min_group_size": 10, "difference_check": {}}`, wantErr: "difference_check.unit"},
		{name: "unknown key in the check", obligations: `{"min_group_size": 10, "difference_check": {"unit": "u", "window": 3}}`, wantErr: "unknown field"},
		{name: "unknown report", obligations: `{"min_group_size": 10, "report_suppressed": "some"}`, wantErr: "report_suppressed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rego := "package fedmesh\n\ndecision := {\"allow\": true, \"reasons\": [], \"obligations\": " + tt.obligations + "}\n"
			p, err := loadRego(t, rego)
			if tt.wantErr != "" {
				// The self-check evaluates a sample: the bundle is refused.
				if !errors.Is(err, policy.ErrMalformedDecision) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a malformed decision naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Evaluate(context.Background(), policy.NewInput(unitPlan()))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, d.Obligations); diff != "" {
				t.Errorf("obligations (-want +got):\n%s", diff)
			}
			if tt.want.DifferenceCheck.K == 0 && d.Obligations.DifferenceK() != 10 {
				t.Errorf("DifferenceK = %d, want min_group_size 10", d.Obligations.DifferenceK())
			}
		})
	}
}

func TestCheckDataErrors(t *testing.T) {
	t.Parallel()
	col := planner.Col
	i := func(v int64) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindInt, Int: v}) }
	s := func(v string) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindString, Str: v}) }
	f := func(v float64) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindFloat, Float: v}) }
	cast := func(e *planner.Expr, t string) *planner.Expr { return planner.Call(planner.OpCast, e, s(t)) }
	caseWhen := func(c, a, b *planner.Expr) *planner.Expr { return planner.Call(planner.OpCase, c, a, b) }
	gt := planner.Call(planner.OpGt, col("amount"), i(100))
	for _, tt := range []struct {
		name    string
		dialect string
		arg     *planner.Expr
		refused string
	}{
		{"division by a column in postgres", "postgres", planner.Call(planner.OpDiv, f(1), col("amount")), "division"},
		{"division by a constant", "postgres", planner.Call(planner.OpDiv, col("amount"), f(4)), ""},
		{"division by zero constant", "postgres", planner.Call(planner.OpDiv, col("amount"), f(0)), "division"},
		{"division by a column in duckdb (its integer // raises on zero)", "duckdb", planner.Call(planner.OpDiv, f(1), col("amount")), "division"},
		{"division by a column in mariadb answers NULL", "mysql", planner.Call(planner.OpDiv, f(1), col("amount")), ""},
		{"cast of data-chosen text", "duckdb", cast(caseWhen(gt, s("x"), s("1")), "integer"), "CAST"},
		{"cast of data-chosen text to date", "mysql", cast(caseWhen(gt, s("2024-01-01"), s("nope")), "date"), "CAST"},
		{"cast of a number", "duckdb", cast(col("amount"), "bigint"), ""},
		{"cast to text", "duckdb", cast(caseWhen(gt, s("x"), s("1")), "text"), ""},
		{"cast of a date chosen by data", "duckdb", cast(caseWhen(gt, col("order_date"), col("order_date")), "date"), ""},
		{"overflowing constant", "duckdb", planner.Call(planner.OpMul, col("amount"), i(1<<40)), "2^31"},
		{"small constant", "duckdb", planner.Call(planner.OpMul, col("amount"), i(100)), ""},
		{"unknown dialect gets every check", "oracle", planner.Call(planner.OpDiv, f(1), col("amount")), "division"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := unitPlan()
			sp.Aggs[0].Agg.Arg = tt.arg
			err := policy.CheckDataErrors(sp, tt.dialect)
			var de *policy.DataErrorError
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.refused) || de.Where != "output a0" {
				t.Fatalf("err = %v, want a refusal of output a0 naming %q", err, tt.refused)
			}
		})
	}
	// Filters and group keys are checked too.
	sp := unitPlan()
	sp.Filter = planner.Call(planner.OpGt, planner.Call(planner.OpDiv, i(1), col("amount")), i(0))
	if err := policy.CheckDataErrors(sp, "postgres"); err == nil || !strings.Contains(err.Error(), "filter") {
		t.Errorf("division in the filter: err = %v", err)
	}
}

// fakeDiffer records what it was asked and refuses when told to.
type fakeDiffer struct {
	scope  string
	k      int
	groups []uint64 // cardinalities
	refuse error
}

func (f *fakeDiffer) CheckAndRecord(_ context.Context, _, scope string, groups []*roaring64.Bitmap, k int, _ time.Time) error {
	f.scope, f.k = scope, k
	for _, g := range groups {
		f.groups = append(f.groups, g.GetCardinality())
	}
	return f.refuse
}

// unitBatch is g0, a0, a1, units: three groups of 3 rows; "a" has 3
// customers, "b" one customer three times, "c" 2 customers.
func unitBatch(t *testing.T) (*arrow.Schema, arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String}, {Name: "a0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a1", Type: arrow.PrimitiveTypes.Int64}, {Name: "__fedmesh_units", Type: arrow.BinaryTypes.Binary},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, g := range []struct {
		key   string
		units []uint64
	}{{"a", []uint64{1, 2, 3}}, {"b", []uint64{4}}, {"c", []uint64{5, 6}}} {
		b.Field(0).(*array.StringBuilder).Append(g.key)
		b.Field(1).(*array.Int64Builder).Append(17)
		b.Field(2).(*array.Int64Builder).Append(3)
		raw, err := roaring64.BitmapOf(g.units...).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b.Field(3).(*array.BinaryBuilder).Append(raw)
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return schema, rec
}

func TestApplyToResultCountsUnitsAndChecksDifferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sp := unitPlan()
	o := policy.Obligations{MinGroupSize: 2, RoundTo: 5, DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id", K: 4}, ReportSuppressed: policy.ReportFlag}
	if _, err := policy.ApplyToPlan(sp, o); err != nil {
		t.Fatal(err)
	}
	schema, b := unitBatch(t)
	d := &fakeDiffer{}
	outSchema, out, rep, err := policy.ApplyToResult(ctx, schema, []arrow.RecordBatch{b}, sp, o, policy.ResultEnv{Analyst: "alice", Differ: d})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, b := range out {
			b.Release()
		}
	}()
	// "b" has 3 rows but one customer: dropped.
	if rep.Suppressed != 1 || rep.Reported != 1 || rep.Rows != 2 || !rep.UnitCounted {
		t.Errorf("report = %+v, want 1 suppressed (b), 2 kept, units counted", rep)
	}
	if diff := cmp.Diff([]uint64{3, 2}, d.groups); diff != "" || d.scope != "sales" || d.k != 4 {
		t.Errorf("difference check saw scope %q k %d groups %v, want sales, 4, [3 2]", d.scope, d.k, d.groups)
	}
	if outSchema.NumFields() != 3 || out[0].NumCols() != 3 {
		t.Errorf("exported schema %s still has the unit set", outSchema)
	}
	if got := out[0].Column(1).(*array.Int64).Value(0); got != 15 {
		t.Errorf("a0 = %d, want 17 rounded to 15", got)
	}
	want := []policy.Obligation{policy.OblMinGroupSize, policy.OblDifferenceCheck, policy.OblRoundTo, policy.OblReportSuppressed}
	if diff := cmp.Diff(want, rep.Applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}

	// A refusing window refuses the export.
	d = &fakeDiffer{refuse: errors.New("too close")}
	_, _, _, err = policy.ApplyToResult(ctx, schema, []arrow.RecordBatch{b}, sp, o, policy.ResultEnv{Analyst: "alice", Differ: d})
	var re *policy.RefusedError
	if !errors.As(err, &re) || re.Obligation != policy.OblDifferenceCheck {
		t.Fatalf("err = %v, want a difference_check refusal", err)
	}
	// No window at all: refused, never exported unchecked.
	_, _, _, err = policy.ApplyToResult(ctx, schema, []arrow.RecordBatch{b}, sp, o, policy.ResultEnv{Analyst: "alice"})
	if !errors.As(err, &re) {
		t.Fatalf("without a Differ: err = %v, want a refusal", err)
	}
}

// loadRego loads a one-file bundle.
func loadRego(t *testing.T, rego string) (*policy.Policy, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{".manifest": `{"revision": "t-1", "roots": ["fedmesh"]}`, "policy.rego": rego} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return policy.Load(context.Background(), dir, nil)
}
