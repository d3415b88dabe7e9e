package flight

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"

	"github.com/fedmesh/fedmesh/flight/ticketpb"
	"github.com/fedmesh/fedmesh/planner"
)

func int64p(v int64) *int64 { return &v }

func lit(v planner.Value) *planner.Expr { return planner.Lit(v) }

// aggregatePlan is a plan as the planner would send it for
// SELECT dept, COUNT(*), AVG(salary) FROM staff WHERE ... GROUP BY dept.
func aggregatePlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version:  planner.PlanVersion,
		QueryID:  "q-123",
		Analyst:  "alice@example.org",
		Roles:    []string{"analyst", "hr-reader"},
		Purpose:  "workforce planning",
		Deadline: time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC),
		Site:     "a",
		Kind:     planner.KindAggregate,
		Table:    "staff",
		Filter: planner.Call(planner.OpAnd,
			planner.Call(planner.OpGe, planner.Col("age"), lit(planner.Value{Kind: planner.KindInt, Int: -40})),
			planner.Call(planner.OpIn, planner.Col("country"),
				lit(planner.Value{Kind: planner.KindString, Str: "FR"}),
				lit(planner.Value{Kind: planner.KindString, Str: "d'Ivoire \"quoted\" ✓"})),
			planner.Call(planner.OpNot, planner.Call(planner.OpIsNull, planner.Col("salary"))),
			planner.Call(planner.OpBetween, planner.Col("score"),
				lit(planner.Value{Kind: planner.KindFloat, Float: -1.5}),
				lit(planner.Value{Kind: planner.KindFloat, Float: math.MaxFloat64})),
			planner.Call(planner.OpNe, planner.Col("active"), lit(planner.Value{Kind: planner.KindBool, Bool: false})),
			planner.Call(planner.OpEq, planner.Col("manager"), lit(planner.Value{Kind: planner.KindNull})),
		),
		GroupBy: []planner.OutputColumn{
			{Name: "g0", Expr: planner.Col("dept")},
			{Name: "g1", Expr: planner.Call(planner.OpAdd, planner.Col("grade"), lit(planner.Value{Kind: planner.KindInt, Int: math.MinInt64}))},
		},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("salary")}},
			{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggCount, Arg: planner.Col("salary")}},
			{Name: "a3", Agg: &planner.PartialAgg{Func: planner.AggMax, Arg: planner.Call(planner.OpNeg, planner.Col("bonus"))}},
		},
		CountColumn: "a0",
	}
}

func TestTicketRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		plan func() *planner.SubPlan
	}{
		{name: "aggregate with every literal kind", plan: aggregatePlan},
		{name: "join of two tables", plan: func() *planner.SubPlan {
			sp := aggregatePlan()
			sp.Join = &planner.Join{Table: "depts", Kind: planner.JoinLeft, Keys: []planner.JoinKey{{Left: "dept", Right: "id"}, {Left: "org", Right: "org_id"}}}
			return sp
		}},
		{name: "credential and privacy request", plan: func() *planner.SubPlan {
			sp := aggregatePlan()
			sp.Credential = "eyJhbGciOiJFZERTQSJ9.e30.c2ln"
			sp.Privacy = &planner.PrivacyRequest{Epsilon: 0.5, Delta: 1e-9}
			return sp
		}},
		{name: "rows star with limit zero", plan: func() *planner.SubPlan {
			return &planner.SubPlan{Version: 1, QueryID: "q", Site: "b", Kind: planner.KindRows, Table: "t", Star: true, Limit: int64p(0)}
		}},
		{name: "rows projection with negative limit", plan: func() *planner.SubPlan {
			return &planner.SubPlan{
				Version: 1, QueryID: "q", Kind: planner.KindRows, Table: "t", Limit: int64p(-7),
				Aggs: []planner.OutputColumn{{Name: "p0", Expr: planner.Col("x")}, {Name: "p1", Expr: planner.Call(planner.OpDiv, planner.Col("x"), planner.Col("y"))}},
			}
		}},
		{name: "minimal plan without deadline or filter", plan: func() *planner.SubPlan {
			return &planner.SubPlan{Version: 1}
		}},
		{name: "unknown op and function pass through", plan: func() *planner.SubPlan {
			return &planner.SubPlan{
				Version: 1, QueryID: "q", Kind: "mystery", Table: "t",
				Filter: &planner.Expr{Op: "regex_match", Args: []*planner.Expr{planner.Col("name"), lit(planner.Value{Kind: planner.KindString, Str: ".*"})}},
				Aggs:   []planner.OutputColumn{{Name: "a0", Agg: &planner.PartialAgg{Func: "median", Arg: planner.Col("x")}}, {Name: "empty"}},
			}
		}},
		{name: "literal and column on the same node survive", plan: func() *planner.SubPlan {
			v := planner.Value{Kind: planner.KindFloat, Float: math.Inf(-1)}
			return &planner.SubPlan{Version: 1, Filter: &planner.Expr{Op: planner.OpLiteral, Column: "odd", Value: &v}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.plan()
			b, err := EncodeTicket(want)
			if err != nil {
				t.Fatalf("EncodeTicket: %v", err)
			}
			got, err := DecodeTicket(b)
			if err != nil {
				t.Fatalf("DecodeTicket: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip changed the plan (-sent +received):\n%s", diff)
			}
		})
	}
}

func TestTicketDeadlineKeepsInstantAcrossZones(t *testing.T) {
	t.Parallel()
	sp := aggregatePlan()
	sp.Deadline = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 5*3600))
	b, err := EncodeTicket(sp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTicket(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Deadline.Equal(sp.Deadline) {
		t.Errorf("deadline = %v, want the instant %v", got.Deadline, sp.Deadline)
	}
}

func TestEncodeTicketErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*planner.SubPlan) *planner.SubPlan
		want string
	}{
		{name: "nil plan", edit: func(*planner.SubPlan) *planner.SubPlan { return nil }, want: "sub-plan is nil"},
		{name: "other version", edit: func(sp *planner.SubPlan) *planner.SubPlan { sp.Version = 2; return sp }, want: "sub-plan version 2 not supported (want 1)"},
		{name: "unknown literal kind", edit: func(sp *planner.SubPlan) *planner.SubPlan {
			sp.Filter = lit(planner.Value{Kind: "decimal"})
			return sp
		}, want: `filter: op "literal": literal kind "decimal" is not supported`},
		{name: "output with expression and aggregate", edit: func(sp *planner.SubPlan) *planner.SubPlan {
			sp.Aggs[1].Expr = planner.Col("x")
			return sp
		}, want: `aggs: output "a1" sets both an expression and an aggregate`},
		{name: "nil argument", edit: func(sp *planner.SubPlan) *planner.SubPlan {
			sp.GroupBy[0].Expr = planner.Call(planner.OpAdd, planner.Col("x"), nil)
			return sp
		}, want: `group_by: output "g0": op "add": argument 1 is nil`},
		{name: "too large", edit: func(sp *planner.SubPlan) *planner.SubPlan {
			sp.Purpose = strings.Repeat("p", MaxTicketSize)
			return sp
		}, want: "exceeds 1 MiB"},
		{name: "deadline beyond timestamp range", edit: func(sp *planner.SubPlan) *planner.SubPlan {
			sp.Deadline = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			return sp
		}, want: "deadline:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := EncodeTicket(tt.edit(aggregatePlan()))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("EncodeTicket error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeTicketErrors(t *testing.T) {
	t.Parallel()
	marshal := func(m *ticketpb.Ticket) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		ticket []byte
		want   string
	}{
		{name: "future version", ticket: marshal(&ticketpb.Ticket{Version: 2, Plan: &ticketpb.SubPlan{QueryId: "q"}}), want: "ticket version 2 not supported (want 1)"},
		{name: "missing version", ticket: marshal(&ticketpb.Ticket{Plan: &ticketpb.SubPlan{QueryId: "q"}}), want: "ticket version 0 not supported (want 1)"},
		{name: "empty ticket", ticket: nil, want: "ticket version 0 not supported (want 1)"},
		{name: "no plan", ticket: marshal(&ticketpb.Ticket{Version: 1}), want: "ticket has no sub-plan"},
		{name: "not protobuf", ticket: []byte("SELECT * FROM staff"), want: "decode ticket:"},
		{name: "oversized", ticket: make([]byte, MaxTicketSize+1), want: "exceeds 1 MiB"},
		{name: "literal without value", ticket: marshal(&ticketpb.Ticket{Version: 1, Plan: &ticketpb.SubPlan{
			QueryId: "q7", Filter: &ticketpb.Expr{Op: "literal", Value: &ticketpb.Value{}},
		}}), want: `decode ticket for query "q7": filter: op "literal": literal has no value`},
		{name: "null literal set to false", ticket: marshal(&ticketpb.Ticket{Version: 1, Plan: &ticketpb.SubPlan{
			Filter: &ticketpb.Expr{Op: "literal", Value: &ticketpb.Value{Kind: &ticketpb.Value_NullValue{NullValue: false}}},
		}}), want: "null_value must be true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp, err := DecodeTicket(tt.ticket)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeTicket = %+v, %v; want error containing %q", sp, err, tt.want)
			}
		})
	}
}

func TestTicketTooLargeIsErrTicketTooLarge(t *testing.T) {
	t.Parallel()
	_, err := DecodeTicket(make([]byte, MaxTicketSize+1))
	if !errors.Is(err, ErrTicketTooLarge) {
		t.Fatalf("DecodeTicket error = %v, want ErrTicketTooLarge", err)
	}
}

func FuzzDecodeTicket(f *testing.F) {
	for _, sp := range []*planner.SubPlan{aggregatePlan(), {Version: 1, Kind: planner.KindRows, Star: true, Limit: int64p(3)}} {
		b, err := EncodeTicket(sp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := DecodeTicket(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to the same plan: a site and a
		// coordinator never disagree about what a ticket means.
		again, err := EncodeTicket(sp)
		if err != nil {
			t.Fatalf("decoded plan does not re-encode: %v", err)
		}
		sp2, err := DecodeTicket(again)
		if err != nil {
			t.Fatalf("re-encoded plan does not decode: %v", err)
		}
		if diff := cmp.Diff(sp, sp2, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("re-encoding changed the plan:\n%s", diff)
		}
	})
}
