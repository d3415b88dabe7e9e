package merge

import (
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

// mtcol is one column of a test batch: values are Go literals (nil is NULL);
// ints fit any integer builder, decimals are strings like "12.50".
type mtcol struct {
	name string
	typ  arrow.DataType
	vals []any
}

func mc(name string, typ arrow.DataType, vals ...any) mtcol { return mtcol{name, typ, vals} }

// mbatch builds a record batch from columns of equal length.
func mbatch(t testing.TB, cols ...mtcol) arrow.RecordBatch {
	t.Helper()
	mem := memory.NewGoAllocator()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	n := -1
	for i, col := range cols {
		fields[i] = arrow.Field{Name: col.name, Type: col.typ, Nullable: true}
		b := array.NewBuilder(mem, col.typ)
		for _, v := range col.vals {
			mAppend(t, b, v)
		}
		arrs[i] = b.NewArray()
		b.Release()
		if n >= 0 && n != len(col.vals) {
			t.Fatalf("column %q has %d values, want %d", col.name, len(col.vals), n)
		}
		n = len(col.vals)
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(max(n, 0)))
	for _, a := range arrs {
		a.Release()
	}
	t.Cleanup(rec.Release)
	return rec
}

func mAppend(t testing.TB, b array.Builder, v any) {
	t.Helper()
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.Int32Builder:
		b.Append(int32(v.(int)))
	case *array.Int16Builder:
		b.Append(int16(v.(int)))
	case *array.Uint64Builder:
		b.Append(uint64(v.(int)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Float32Builder:
		b.Append(float32(v.(float64)))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.LargeStringBuilder:
		b.Append(v.(string))
	case *array.Date32Builder:
		b.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.TimestampBuilder:
		ts, err := arrow.TimestampFromTime(v.(time.Time), b.Type().(*arrow.TimestampType).Unit)
		if err != nil {
			t.Fatal(err)
		}
		b.Append(ts)
	case *array.Decimal128Builder:
		dt := b.Type().(*arrow.Decimal128Type)
		var n decimal128.Num
		var err error
		switch x := v.(type) {
		case string:
			n, err = decimal128.FromString(x, dt.Precision, dt.Scale)
		case *big.Int:
			n = decimal128.FromBigInt(x)
		case int:
			n = decimal128.FromI64(int64(x))
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Append(n)
	default:
		t.Fatalf("test helper cannot append to %T", b)
	}
}

var (
	ti64  = arrow.PrimitiveTypes.Int64
	ti32  = arrow.PrimitiveTypes.Int32
	tf64  = arrow.PrimitiveTypes.Float64
	tstr  = arrow.BinaryTypes.String
	tlstr = arrow.BinaryTypes.LargeString
	tdate = arrow.FixedWidthTypes.Date32
	tbool = arrow.FixedWidthTypes.Boolean
)

func tdec(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }

func mpart(site string, recs ...arrow.RecordBatch) Partial { return Partial{Site: site, Batches: recs} }

// mquery is an aggregate query over keys and merged aggregates whose
// outputs are, unless given, every key and aggregate by name.
func mquery(keys []string, aggs []planner.MergeAgg, outs ...planner.Output) *planner.Query {
	if outs == nil {
		for _, k := range keys {
			outs = append(outs, planner.Output{Name: k, Expr: planner.Col(k)})
		}
		for _, a := range aggs {
			outs = append(outs, planner.Output{Name: a.Name, Expr: planner.Col(a.Name)})
		}
	}
	return &planner.Query{Kind: planner.KindAggregate, Merge: planner.MergePlan{Keys: keys, Aggs: aggs, Outputs: outs}}
}

func magg(name string, fn planner.MergeFunc, inputs ...string) planner.MergeAgg {
	return planner.MergeAgg{Name: name, Func: fn, Inputs: inputs}
}

func mout(name string, e *planner.Expr) planner.Output { return planner.Output{Name: name, Expr: e} }

func mint(v int64) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindInt, Int: v}) }
func mfloat(v float64) *planner.Expr {
	return planner.Lit(planner.Value{Kind: planner.KindFloat, Float: v})
}
func mstr(v string) *planner.Expr {
	return planner.Lit(planner.Value{Kind: planner.KindString, Str: v})
}
func mbool(v bool) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindBool, Bool: v}) }
func mnull() *planner.Expr       { return planner.Lit(planner.Value{Kind: planner.KindNull}) }
func mi64p(v int64) *int64       { return &v }
func mboolp(v bool) *bool        { return &v }
func mbig(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad big int " + s)
	}
	return b
}
func mdec(unscaled string, scale int32) Decimal {
	return Decimal{Unscaled: mbig(unscaled), Scale: scale}
}

// mergeCmpOpts compares big integers and decimals by value.
var mergeCmpOpts = cmp.Options{
	cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 }),
}

func mcols(pairs ...string) []Column {
	out := make([]Column, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Column{Name: pairs[i], Type: pairs[i+1]})
	}
	return out
}

func mday(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
