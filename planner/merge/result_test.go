package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

func TestDecimalString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    Decimal
		want string
	}{
		{mdec("-1050", 3), "-1.050"},
		{mdec("5", 4), "0.0005"},
		{mdec("-5", 4), "-0.0005"},
		{mdec("0", 2), "0.00"},
		{mdec("123", 0), "123"},
		{mdec("12", -2), "1200"},
		{Decimal{}, "0"},
		{mdec("123456789012345678901234567890123456789", 10), "12345678901234567890123456789.0123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	r := &Result{
		Columns: mcols("big", "HUGEINT", "dec", "DECIMAL(38,3)", "i", "BIGINT", "f", "DOUBLE", "nan", "DOUBLE",
			"s", "VARCHAR", "null", "NULL", "b", "BOOLEAN", "d", "DATE", "ts", "TIMESTAMP"),
		Rows: [][]any{{
			mbig("-123456789012345678901234567890"), mdec("-1050", 3), int64(7), 1.5, math.NaN(),
			"x\"y", nil, true, mday("2024-01-02"), time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC),
		}},
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"columns":[{"name":"big","type":"HUGEINT"},{"name":"dec","type":"DECIMAL(38,3)"},` +
		`{"name":"i","type":"BIGINT"},{"name":"f","type":"DOUBLE"},{"name":"nan","type":"DOUBLE"},` +
		`{"name":"s","type":"VARCHAR"},{"name":"null","type":"NULL"},{"name":"b","type":"BOOLEAN"},` +
		`{"name":"d","type":"DATE"},{"name":"ts","type":"TIMESTAMP"}],` +
		`"rows":[[-123456789012345678901234567890,-1.050,7,1.5,"NaN","x\"y",null,true,"2024-01-02","2024-01-02T03:04:05.0000006Z"]]}`
	if string(got) != want {
		t.Errorf("Marshal() =\n%s\nwant\n%s", got, want)
	}

	// A client decoding numbers as json.Number gets every digit back.
	var back struct{ Rows [][]any }
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.UseNumber()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{json.Number("-123456789012345678901234567890"), json.Number("-1.050")}, back.Rows[0][:2]); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestResultJSONEmpty(t *testing.T) {
	t.Parallel()
	// Embedded by value, as an HTTP response struct would hold it.
	got, err := json.Marshal(struct{ Answer Result }{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Answer":{"columns":[],"rows":[]}}`; string(got) != want {
		t.Errorf("Marshal() = %s, want %s", got, want)
	}
}

// A merged sum that overflowed int64 and a decimal sum survive the JSON API.
func TestMergeResultJSON(t *testing.T) {
	t.Parallel()
	parts := []Partial{
		mpart("a", mbatch(t, mc("a0", ti64, math.MaxInt64), mc("a1", tdec(20, 2), "0.10"))),
		mpart("b", mbatch(t, mc("a0", ti64, math.MaxInt64), mc("a1", tdec(20, 2), "0.20"))),
	}
	q := mquery(nil, []planner.MergeAgg{magg("s", planner.MergeSum, "a0"), magg("d", planner.MergeSum, "a1")})
	r, err := Merge(context.Background(), q, parts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"columns":[{"name":"s","type":"HUGEINT"},{"name":"d","type":"DECIMAL(38,2)"}],"rows":[[18446744073709551614,0.30]]}`
	if string(got) != want {
		t.Errorf("Marshal() = %s, want %s", got, want)
	}
}

// Doubles are written exactly as encoding/json writes them.
func TestResultJSONFloats(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, -0.5, 1e-7, 123456789.125, 1e21, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSONValue(nil, f, false)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("appendJSONValue(%v) = %s, want %s", f, got, want)
		}
	}
}
