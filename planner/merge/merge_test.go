package merge

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

func TestMergeAggregates(t *testing.T) {
	t.Parallel()
	// Three sites; groups 1 and 2 overlap, 3 and 4 are at one site each.
	parts := func(t *testing.T) []Partial {
		return []Partial{
			mpart("a", mbatch(t,
				mc("g0", ti64, 1, 2), mc("a0", ti64, 2, 3), mc("a1", ti64, 10, 20),
				mc("a2", ti64, 5, 7), mc("a3", ti64, 9, 8))),
			mpart("b", mbatch(t,
				mc("g0", ti64, 2, 3), mc("a0", ti64, 1, 4), mc("a1", ti64, 5, 100),
				mc("a2", ti64, 1, 50), mc("a3", ti64, 30, 60))),
			mpart("c", mbatch(t,
				mc("g0", ti64, 1, 4), mc("a0", ti64, 5, 1), mc("a1", ti64, 1, nil),
				mc("a2", ti64, 0, nil), mc("a3", ti64, 2, nil))),
		}
	}
	q := mquery([]string{"g0"}, []planner.MergeAgg{
		magg("cnt", planner.MergeCount, "a0"), magg("sum", planner.MergeSum, "a1"),
		magg("min", planner.MergeMin, "a2"), magg("max", planner.MergeMax, "a3"),
		magg("avg", planner.MergeAvg, "a1", "a0"),
	})
	q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("g0")}}
	got, err := Merge(context.Background(), q, parts(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{
		Columns: mcols("g0", "BIGINT", "cnt", "BIGINT", "sum", "HUGEINT", "min", "BIGINT", "max", "BIGINT", "avg", "DOUBLE"),
		Rows: [][]any{
			{int64(1), int64(7), int64(11), int64(0), int64(9), 11.0 / 7},
			{int64(2), int64(4), int64(25), int64(1), int64(30), 6.25},
			{int64(3), int64(4), int64(100), int64(50), int64(60), 25.0},
			{int64(4), int64(1), nil, nil, nil, nil},
		},
	}
	if diff := cmp.Diff(want, got, mergeCmpOpts); diff != "" {
		t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeKeysByValue(t *testing.T) {
	t.Parallel()
	ts1 := time.Date(2024, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	tests := []struct {
		name  string
		parts func(t *testing.T) []Partial
		want  *Result
	}{
		{
			name: "NULL key is one group across sites",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", tstr, "x", nil), mc("a0", ti64, 1, 2))),
					mpart("b", mbatch(t, mc("g0", tlstr, nil, "x", "y"), mc("a0", ti64, 3, 4, 5))),
				}
			},
			want: &Result{
				Columns: mcols("g0", "VARCHAR", "cnt", "BIGINT"),
				Rows:    [][]any{{"x", int64(5)}, {"y", int64(5)}, {nil, int64(5)}},
			},
		},
		{
			name: "Int32 and Int64 keys merge",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti32, 1, 2, nil), mc("a0", ti32, 1, 1, 1))),
					mpart("b", mbatch(t, mc("g0", ti64, 2, 3, nil), mc("a0", ti64, 10, 10, 10))),
				}
			},
			want: &Result{
				Columns: mcols("g0", "BIGINT", "cnt", "BIGINT"),
				Rows:    [][]any{{int64(1), int64(1)}, {int64(2), int64(11)}, {int64(3), int64(10)}, {nil, int64(11)}},
			},
		},
		{
			name: "decimal keys at different scales merge",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", tdec(10, 1), "1.5", "2.0"), mc("a0", ti64, 1, 1))),
					mpart("b", mbatch(t, mc("g0", tdec(12, 2), "1.50", "3.25"), mc("a0", ti64, 10, 10))),
				}
			},
			want: &Result{
				Columns: mcols("g0", "DECIMAL(38,2)", "cnt", "BIGINT"),
				Rows: [][]any{
					{mdec("150", 2), int64(11)}, {mdec("200", 2), int64(1)}, {mdec("325", 2), int64(10)},
				},
			},
		},
		{
			name: "timestamps in different units and dates merge by instant",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", arrow.FixedWidthTypes.Timestamp_us, ts1, mday("2024-05-01")), mc("a0", ti64, 1, 1))),
					mpart("b", mbatch(t, mc("g0", arrow.FixedWidthTypes.Timestamp_ms, ts1), mc("a0", ti64, 10))),
					mpart("c", mbatch(t, mc("g0", tdate, mday("2024-05-01")), mc("a0", ti64, 100))),
				}
			},
			want: &Result{
				Columns: mcols("g0", "TIMESTAMP", "cnt", "BIGINT"),
				Rows:    [][]any{{ts1, int64(11)}, {mday("2024-05-01"), int64(101)}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := mquery([]string{"g0"}, []planner.MergeAgg{magg("cnt", planner.MergeCount, "a0")})
			q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("g0")}}
			got, err := Merge(context.Background(), q, tt.parts(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, mergeCmpOpts); diff != "" {
				t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeExactSums(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		parts   func(t *testing.T) []Partial
		wantTyp string
		want    []any // sum per group g0 = 1, 2
	}{
		{
			name: "int64 overflow continues exactly in big.Int",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", ti64, math.MaxInt64, math.MinInt64))),
					mpart("b", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", ti64, 10, -1))),
					mpart("c", mbatch(t, mc("g0", ti64, 1), mc("a1", ti64, math.MaxInt64))),
				}
			},
			wantTyp: "HUGEINT",
			want:    []any{mbig("18446744073709551624"), mbig("-9223372036854775809")},
		},
		{
			name: "overflow then back into int64 range",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", ti64, math.MaxInt64, 1))),
					mpart("b", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", ti64, 1, 1))),
					mpart("c", mbatch(t, mc("g0", ti64, 1), mc("a1", ti64, -10))),
				}
			},
			wantTyp: "HUGEINT",
			want:    []any{int64(math.MaxInt64 - 9), int64(2)},
		},
		{
			name: "DuckDB HUGEINT partials (Decimal128(38,0)) beyond int64",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", tdec(38, 0), mbig("100000000000000000000"), 5))),
					mpart("b", mbatch(t, mc("g0", ti32, 1, 2), mc("a1", ti64, 1, 6))),
				}
			},
			wantTyp: "HUGEINT",
			want:    []any{mbig("100000000000000000001"), int64(11)},
		},
		{
			name: "decimal sums keep every digit at the larger scale",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", tdec(38, 2), "0.10", "99999999999999999999999999999999.99"))),
					mpart("b", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", tdec(18, 3), "0.205", "0.011"))),
					mpart("c", mbatch(t, mc("g0", ti64, 1), mc("a1", tdec(38, 2), nil))),
				}
			},
			wantTyp: "DECIMAL(38,3)",
			want:    []any{mdec("305", 3), mdec("100000000000000000000000000000000001", 3)},
		},
		{
			name: "doubles sum as float64",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", tf64, 0.5, nil))),
					mpart("b", mbatch(t, mc("g0", ti64, 1, 2), mc("a1", ti64, 2, nil))),
				}
			},
			wantTyp: "DOUBLE",
			want:    []any{2.5, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := mquery([]string{"g0"}, []planner.MergeAgg{magg("s", planner.MergeSum, "a1")})
			q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("g0")}}
			got, err := Merge(context.Background(), q, tt.parts(t))
			if err != nil {
				t.Fatal(err)
			}
			want := &Result{
				Columns: mcols("g0", "BIGINT", "s", tt.wantTyp),
				Rows:    [][]any{{int64(1), tt.want[0]}, {int64(2), tt.want[1]}},
			}
			if diff := cmp.Diff(want, got, mergeCmpOpts); diff != "" {
				t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeGlobalAggregate(t *testing.T) {
	t.Parallel()
	q := mquery(nil, []planner.MergeAgg{magg("n", planner.MergeCount, "a0"), magg("s", planner.MergeSum, "a1"), magg("m", planner.MergeMin, "a1")})
	tests := []struct {
		name  string
		parts func(t *testing.T) []Partial
		want  *Result
	}{
		{
			name: "no rows at any site gives one row",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("a0", ti64), mc("a1", ti64))),
					mpart("b", mbatch(t, mc("a0", ti64), mc("a1", ti64))),
				}
			},
			want: &Result{Columns: mcols("n", "BIGINT", "s", "HUGEINT", "m", "BIGINT"), Rows: [][]any{{int64(0), nil, nil}}},
		},
		{
			name:  "no batches at all gives one row of unknown types",
			parts: func(t *testing.T) []Partial { return []Partial{mpart("a"), mpart("b")} },
			want:  &Result{Columns: mcols("n", "BIGINT", "s", "NULL", "m", "NULL"), Rows: [][]any{{int64(0), nil, nil}}},
		},
		{
			name: "sum over only NULLs is NULL and count of NULLs is 0",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("a0", ti64, nil), mc("a1", ti64, nil))),
					mpart("b", mbatch(t, mc("a0", ti64, 0), mc("a1", ti64, nil))),
				}
			},
			want: &Result{Columns: mcols("n", "BIGINT", "s", "HUGEINT", "m", "BIGINT"), Rows: [][]any{{int64(0), nil, nil}}},
		},
		{
			name: "one row per site folds into one",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("a0", ti64, 3), mc("a1", ti64, -4))),
					mpart("b", mbatch(t, mc("a0", ti64, 2), mc("a1", ti32, 7))),
				}
			},
			want: &Result{Columns: mcols("n", "BIGINT", "s", "HUGEINT", "m", "BIGINT"), Rows: [][]any{{int64(5), int64(3), int64(-4)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Merge(context.Background(), q, tt.parts(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, mergeCmpOpts); diff != "" {
				t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeMinMaxTypes(t *testing.T) {
	t.Parallel()
	parts := []Partial{
		mpart("a", mbatch(t, mc("s", tstr, "pear", nil), mc("d", tdate, mday("2024-03-01"), nil),
			mc("b", tbool, true, nil), mc("x", tdec(10, 2), "1.50", nil), mc("f", tf64, math.NaN(), nil))),
		mpart("b", mbatch(t, mc("s", tlstr, "apple"), mc("d", tdate, mday("2023-12-31")),
			mc("b", tbool, false), mc("x", tdec(10, 2), "-2.25"), mc("f", tf64, 3.5))),
	}
	q := mquery(nil, []planner.MergeAgg{
		magg("mins", planner.MergeMin, "s"), magg("maxs", planner.MergeMax, "s"),
		magg("mind", planner.MergeMin, "d"), magg("maxd", planner.MergeMax, "d"),
		magg("minb", planner.MergeMin, "b"), magg("maxb", planner.MergeMax, "b"),
		magg("minx", planner.MergeMin, "x"), magg("maxx", planner.MergeMax, "x"),
		magg("minf", planner.MergeMin, "f"), magg("maxf", planner.MergeMax, "f"),
	})
	got, err := Merge(context.Background(), q, parts)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := mcols("mins", "VARCHAR", "maxs", "VARCHAR", "mind", "DATE", "maxd", "DATE",
		"minb", "BOOLEAN", "maxb", "BOOLEAN", "minx", "DECIMAL(10,2)", "maxx", "DECIMAL(10,2)",
		"minf", "DOUBLE", "maxf", "DOUBLE")
	if diff := cmp.Diff(wantCols, got.Columns); diff != "" {
		t.Errorf("columns mismatch (-want +got):\n%s", diff)
	}
	wantRow := []any{"apple", "pear", mday("2023-12-31"), mday("2024-03-01"), false, true,
		mdec("-225", 2), mdec("150", 2), 3.5, math.NaN()}
	if diff := cmp.Diff([][]any{wantRow}, got.Rows, mergeCmpOpts, cmp.Comparer(func(a, b float64) bool {
		return a == b || (math.IsNaN(a) && math.IsNaN(b))
	})); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeSchemaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parts func(t *testing.T) []Partial
		want  []string // substrings of the error
	}{
		{
			name: "missing aggregate input",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1), mc("a0", ti64, 1))),
					mpart("b", mbatch(t, mc("g0", ti64, 1))),
				}
			},
			want: []string{`site "b"`, `"a0"`},
		},
		{
			name: "missing group key",
			parts: func(t *testing.T) []Partial {
				return []Partial{mpart("east", mbatch(t, mc("a0", ti64, 1)))}
			},
			want: []string{`site "east"`, `"g0"`},
		},
		{
			name: "key types that do not merge",
			parts: func(t *testing.T) []Partial {
				return []Partial{
					mpart("a", mbatch(t, mc("g0", ti64, 1), mc("a0", ti64, 1))),
					mpart("b", mbatch(t, mc("g0", tstr, "1"), mc("a0", ti64, 1))),
				}
			},
			want: []string{`column "g0"`, `site "a"`, "BIGINT", `site "b"`, "VARCHAR"},
		},
		{
			name: "count that is not an integer",
			parts: func(t *testing.T) []Partial {
				return []Partial{mpart("a", mbatch(t, mc("g0", ti64, 1), mc("a0", tf64, 1.0)))}
			},
			want: []string{`"cnt"`, `"a0"`, "DOUBLE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := mquery([]string{"g0"}, []planner.MergeAgg{magg("cnt", planner.MergeCount, "a0")})
			_, err := Merge(context.Background(), q, tt.parts(t))
			if err == nil {
				t.Fatal("Merge() succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestMergeCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := mquery([]string{"g0"}, []planner.MergeAgg{magg("cnt", planner.MergeCount, "a0")})
	_, err := Merge(ctx, q, []Partial{mpart("a", mbatch(t, mc("g0", ti64, 1), mc("a0", ti64, 1)))})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Merge() error = %v, want context.Canceled", err)
	}
}
