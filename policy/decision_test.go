package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

func TestDecodeDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		doc       string
		wantAllow bool
		wantObl   Obligations
		wantErr   string // substring; empty means success
	}{
		{name: "allow with obligations", doc: `{"allow": true, "reasons": ["ok"], "obligations": {"min_group_size": 10, "deny_columns": ["ssn"], "max_groups": 50}}`,
			wantAllow: true, wantObl: Obligations{MinGroupSize: 10, DenyColumns: []string{"ssn"}, MaxGroups: 50}},
		{name: "deny without obligations", doc: `{"allow": false, "reasons": ["no"]}`},
		{name: "not an object", doc: `"allow"`, wantErr: "cannot unmarshal"},
		{name: "allow missing", doc: `{"reasons": []}`, wantErr: "allow must be a boolean"},
		{name: "allow is a string", doc: `{"allow": "true", "reasons": []}`, wantErr: "allow"},
		{name: "reasons missing", doc: `{"allow": false}`, wantErr: "reasons must be an array"},
		{name: "reason not a string", doc: `{"allow": false, "reasons": [1]}`, wantErr: "reasons"},
		{name: "allow without min_group_size", doc: `{"allow": true, "reasons": [], "obligations": {}}`, wantErr: "must set obligations.min_group_size"},
		{name: "fractional min_group_size", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 2.5}}`, wantErr: "min_group_size"},
		{name: "negative min_group_size", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": -1}}`, wantErr: "must be >= 0"},
		{name: "unknown obligation", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 10, "k_anonymity": 5}}`, wantErr: "k_anonymity"},
		{name: "negative round_to", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 10, "round_to": -5}}`, wantErr: "round_to is -5"},
		{name: "row_filter not a predicate", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 10, "row_filter": {"op": "column", "column": "consent"}}}`, wantErr: "row_filter: op \"column\" is not a predicate"},
		{name: "row_filter with unknown op", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 10, "row_filter": {"op": "and", "args": [{"op": "regexp", "args": []}]}}}`, wantErr: "op \"regexp\" is not known"},
		{name: "row_filter with unknown field", doc: `{"allow": true, "reasons": [], "obligations": {"min_group_size": 10, "row_filter": {"op": "eq", "sql": "1=1"}}}`, wantErr: "sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v any
			if err := json.Unmarshal([]byte(tt.doc), &v); err != nil {
				t.Fatal(err)
			}
			allow, _, obl, err := decodeDecision(v)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformedDecision) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedDecision mentioning %q", err, tt.wantErr)
				}
				if allow {
					t.Error("allow = true alongside an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if allow != tt.wantAllow {
				t.Errorf("allow = %v, want %v", allow, tt.wantAllow)
			}
			if diff := cmp.Diff(tt.wantObl, obl); diff != "" {
				t.Errorf("obligations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckPlan(t *testing.T) {
	t.Parallel()
	base := func() *planner.SubPlan {
		return &planner.SubPlan{
			Site: "a", Kind: planner.KindAggregate, Table: "sales",
			GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
			Aggs: []planner.OutputColumn{
				{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
				{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			},
			CountColumn: "a1",
		}
	}
	obl := Obligations{MinGroupSize: 10, DenyColumns: []string{"customer_id", "SSN"}}
	tests := []struct {
		name   string
		obl    Obligations
		mutate func(*planner.SubPlan)
		want   []DeniedColumnError // nil: no error
	}{
		{name: "permitted columns pass", obl: obl, mutate: func(*planner.SubPlan) {}},
		{name: "no denied columns, anything passes", obl: Obligations{}, mutate: func(sp *planner.SubPlan) {
			sp.GroupBy[0].Expr = planner.Col("customer_id")
		}},
		{name: "denied group key", obl: obl, mutate: func(sp *planner.SubPlan) {
			sp.GroupBy[0].Expr = planner.Col("customer_id")
		}, want: []DeniedColumnError{{Site: "a", Table: "sales", Column: "customer_id", Uses: []string{"group_key"}}}},
		{name: "denied column in several roles, other case", obl: obl, mutate: func(sp *planner.SubPlan) {
			sp.Aggs = append(sp.Aggs,
				planner.OutputColumn{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggMin, Arg: planner.Col("ssn")}},
				planner.OutputColumn{Name: "a3", Agg: &planner.PartialAgg{Func: planner.AggMax, Arg: planner.Col("ssn")}})
			sp.Filter = planner.Call(planner.OpIsNotNull, planner.Col("ssn"))
		}, want: []DeniedColumnError{{Site: "a", Table: "sales", Column: "ssn", Uses: []string{"aggregate_arg", "filter"}}}},
		{name: "two denied columns", obl: obl, mutate: func(sp *planner.SubPlan) {
			sp.GroupBy[0].Expr = planner.Col("customer_id")
			sp.Filter = planner.Call(planner.OpIsNull, planner.Col("SSN"))
		}, want: []DeniedColumnError{
			{Site: "a", Table: "sales", Column: "customer_id", Uses: []string{"group_key"}},
			{Site: "a", Table: "sales", Column: "SSN", Uses: []string{"filter"}},
		}},
		{name: "select star includes denied columns", obl: obl, mutate: func(sp *planner.SubPlan) {
			sp.Kind, sp.Star, sp.GroupBy, sp.Aggs = planner.KindRows, true, nil, nil
		}, want: []DeniedColumnError{{Site: "a", Table: "sales", Column: "* (all columns, including customer_id, SSN)", Uses: []string{"projection"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := base()
			tt.mutate(sp)
			err := tt.obl.CheckPlan(sp)
			var got []DeniedColumnError
			if err != nil {
				errs := []error{err}
				if j, ok := err.(interface{ Unwrap() []error }); ok {
					errs = j.Unwrap()
				}
				for _, e := range errs {
					var dc *DeniedColumnError
					if !errors.As(e, &dc) {
						t.Fatalf("error %v is not a *DeniedColumnError", e)
					}
					got = append(got, *dc)
					if !strings.Contains(e.Error(), `column "`+dc.Column+`"`) {
						t.Errorf("error %q does not name column %q", e, dc.Column)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("denied columns (-want +got):\n%s", diff)
			}
		})
	}
}
