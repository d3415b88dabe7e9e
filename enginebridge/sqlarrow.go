package enginebridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBatchSize is the number of rows per Arrow batch when none is configured.
const DefaultBatchSize = 65536

// TypeMap maps the column types of one SQL dialect, as reported by
// (*sql.ColumnType).DatabaseTypeName, to Arrow types. It is data, not code,
// so every adapter's mapping can be read (and tested) as a table.
type TypeMap struct {
	// Dialect names the dialect in error messages, e.g. "duckdb".
	Dialect string
	// Exact maps an upper-case type name without parameters ("BIGINT") to its Arrow type.
	Exact map[string]arrow.DataType
	// Parametric maps the base name of a parameterised type ("DECIMAL" in
	// "DECIMAL(10,2)") to a constructor taking the parsed parameters.
	Parametric map[string]func(params []int) (arrow.DataType, error)
	// Value converts driver-specific values (e.g. duckdb.Decimal) into the
	// generic forms the converter understands (see appendValue). May be nil.
	Value func(v any) (any, error)
	// Column, if set, maps a column from everything the driver reports
	// (precision and scale of a DECIMAL, say) before the name-based tables
	// are consulted. It returns a nil type to fall back to them.
	Column func(c *sql.ColumnType) (arrow.DataType, error)
}

// ArrowType returns the Arrow type for a database type name, or an error
// naming the type when the dialect has no mapping for it.
func (m *TypeMap) ArrowType(dbType string) (arrow.DataType, error) {
	name := strings.ToUpper(strings.TrimSpace(dbType))
	if t, ok := m.Exact[name]; ok {
		return t, nil
	}
	base, params, ok := splitTypeParams(name)
	if ok {
		if mk, found := m.Parametric[base]; found {
			t, err := mk(params)
			if err != nil {
				return nil, fmt.Errorf("%s type %s: %w", m.Dialect, dbType, err)
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s type %s has no arrow mapping", m.Dialect, dbType)
}

// splitTypeParams splits "DECIMAL(10,2)" into "DECIMAL" and [10 2].
func splitTypeParams(name string) (string, []int, bool) {
	open := strings.IndexByte(name, '(')
	if open <= 0 || !strings.HasSuffix(name, ")") {
		return "", nil, false
	}
	var params []int
	for _, p := range strings.Split(name[open+1:len(name)-1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return "", nil, false
		}
		params = append(params, n)
	}
	return strings.TrimSpace(name[:open]), params, true
}

// SchemaFor builds the Arrow schema for a result's columns. Every field is
// nullable: database/sql drivers rarely report nullability reliably.
func SchemaFor(cols []*sql.ColumnType, tm *TypeMap) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		var t arrow.DataType
		var err error
		if tm.Column != nil {
			t, err = tm.Column(c)
		}
		if t == nil && err == nil {
			t, err = tm.ArrowType(c.DatabaseTypeName())
		}
		if err != nil {
			return nil, fmt.Errorf("column %d %q: %w", i, c.Name(), err)
		}
		fields[i] = arrow.Field{Name: c.Name(), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// RowsOptions tunes NewRowsReader.
type RowsOptions struct {
	BatchSize int              // rows per batch; 0 → DefaultBatchSize
	Allocator memory.Allocator // nil → memory.DefaultAllocator
	// OnRelease runs once after the rows are closed, e.g. to return a
	// dedicated connection to its pool. May be nil.
	OnRelease func()
}

// RowsReader converts *sql.Rows into Arrow record batches lazily: each call
// to Next scans at most BatchSize rows. It is not safe for concurrent use,
// except that Retain/Release are atomic.
type RowsReader struct {
	refs      atomic.Int64
	ctx       context.Context
	rows      *sql.Rows
	tm        *TypeMap
	schema    *arrow.Schema
	bld       *array.RecordBuilder
	appenders []appendFunc
	scanDst   []any
	scanVals  []any
	batchSize int
	onRelease func()

	cur  arrow.RecordBatch
	err  error
	done bool
}

var _ array.RecordReader = (*RowsReader)(nil)

// NewRowsReader wraps rows. It takes ownership of rows: they are closed by
// Release, or immediately if NewRowsReader returns an error (for example a
// column type the TypeMap cannot map).
func NewRowsReader(ctx context.Context, rows *sql.Rows, tm *TypeMap, opts RowsOptions) (*RowsReader, error) {
	fail := func(err error) (*RowsReader, error) {
		err = errors.Join(err, rows.Close())
		if opts.OnRelease != nil {
			opts.OnRelease()
		}
		return nil, err
	}
	cols, err := rows.ColumnTypes()
	if err != nil {
		return fail(fmt.Errorf("read column types: %w", err))
	}
	schema, err := SchemaFor(cols, tm)
	if err != nil {
		return fail(err)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	r := &RowsReader{
		ctx:       ctx,
		rows:      rows,
		tm:        tm,
		schema:    schema,
		bld:       array.NewRecordBuilder(opts.Allocator, schema),
		batchSize: opts.BatchSize,
		onRelease: opts.OnRelease,
		scanDst:   make([]any, len(cols)),
		scanVals:  make([]any, len(cols)),
		appenders: make([]appendFunc, len(cols)),
	}
	for i := range cols {
		r.scanDst[i] = &r.scanVals[i]
		r.appenders[i] = newAppender(r.bld.Field(i), schema.Field(i).Type)
	}
	r.refs.Store(1)
	return r, nil
}

// Schema returns the result schema, known before the first batch.
func (r *RowsReader) Schema() *arrow.Schema { return r.schema }

// RecordBatch returns the current batch; it is valid until the next call to
// Next or Release. Retain it to keep it longer.
func (r *RowsReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (r *RowsReader) Record() arrow.RecordBatch { return r.cur }

// Err reports the error that ended iteration, if any. A cancelled context
// yields an error wrapping ctx.Err().
func (r *RowsReader) Err() error { return r.err }

// Retain increases the reference count.
func (r *RowsReader) Retain() { r.refs.Add(1) }

// Release decreases the reference count; at zero it frees the current batch
// and closes the rows.
func (r *RowsReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.releaseCur()
	r.bld.Release()
	_ = r.rows.Close()
	if r.onRelease != nil {
		r.onRelease()
	}
}

func (r *RowsReader) releaseCur() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// Next scans up to BatchSize rows into a new batch. It returns false at the
// end of the rows or on error (see Err).
func (r *RowsReader) Next() bool {
	r.releaseCur()
	if r.done {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		return r.stop(fmt.Errorf("read rows: %w", err))
	}
	n := 0
	for n < r.batchSize && r.rows.Next() {
		if err := r.rows.Scan(r.scanDst...); err != nil {
			return r.stop(fmt.Errorf("scan row: %w", err))
		}
		for i, v := range r.scanVals {
			if err := r.appendOne(i, v); err != nil {
				return r.stop(err)
			}
		}
		n++
	}
	if n < r.batchSize {
		r.done = true
		if err := r.rows.Err(); err != nil {
			return r.stop(r.wrapCtx(fmt.Errorf("read rows: %w", err)))
		}
		if err := r.ctx.Err(); err != nil {
			return r.stop(fmt.Errorf("read rows: %w", err))
		}
	}
	if n == 0 {
		return false
	}
	r.cur = r.bld.NewRecordBatch()
	return true
}

func (r *RowsReader) appendOne(i int, v any) error {
	b := r.bld.Field(i)
	if v == nil {
		b.AppendNull()
		return nil
	}
	if r.tm.Value != nil {
		var err error
		if v, err = r.tm.Value(v); err != nil {
			return r.colErr(i, err)
		}
	}
	if err := r.appenders[i](v); err != nil {
		return r.colErr(i, err)
	}
	return nil
}

func (r *RowsReader) colErr(i int, err error) error {
	f := r.schema.Field(i)
	return fmt.Errorf("column %d %q (%s): %w", i, f.Name, f.Type, err)
}

// stop ends iteration with err, discarding any partly built batch.
func (r *RowsReader) stop(err error) bool {
	r.done = true
	r.err = err
	if rec := r.bld.NewRecordBatch(); rec != nil {
		rec.Release()
	}
	return false
}

// wrapCtx makes sure an error caused by cancellation wraps ctx.Err(), so
// callers can test errors.Is(err, context.Canceled) whatever the driver did.
func (r *RowsReader) wrapCtx(err error) error {
	return wrapCtxErr(r.ctx, err)
}

func wrapCtxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}
