// The Flink adapter's result reader: gateway result pages become Arrow
// batches; a cancelled query cancels its operation and stops its job.

package enginebridge

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

func flinkSchema(cols []flinkColumnInfo) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := flinkArrowType(c.LogicalType)
		if err != nil {
			return nil, fmt.Errorf("column %d %q: %w", i, c.Name, err)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// flinkReader turns an operation's result pages into record batches, one
// batch per non-empty page.
type flinkReader struct {
	refs       atomic.Int64
	f          *Flink
	ctx        context.Context
	session    string
	op         string
	job        string // pipeline.name of the query's Flink job
	next       string // path of the next page; "" after the last
	schema     *arrow.Schema
	pending    *flinkResultPage
	stopCancel func() bool
	cancelOnce sync.Once
	closeOnce  sync.Once

	cur arrow.RecordBatch
	err error
}

var _ array.RecordReader = (*flinkReader)(nil)

func (r *flinkReader) Schema() *arrow.Schema          { return r.schema }
func (r *flinkReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (r *flinkReader) Record() arrow.RecordBatch { return r.cur }
func (r *flinkReader) Err() error                { return r.err }
func (r *flinkReader) Retain()                   { r.refs.Add(1) }

// Release frees the current batch and closes the operation on the gateway.
func (r *flinkReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.releaseCur()
	if r.stopCancel != nil && !r.stopCancel() {
		// cancelOp ran (or runs): it closes the operation itself.
		return
	}
	if r.ctx.Err() != nil {
		// Cancelled, but this Release stopped the AfterFunc before the
		// context package started it: cancel here, without blocking.
		go r.cancelOp()
		return
	}
	r.closeOp()
}

func (r *flinkReader) releaseCur() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// cancelOp runs when ctx is cancelled: it cancels the operation (and so its
// Flink job) and closes it.
func (r *flinkReader) cancelOp() {
	r.cancelOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := r.f.c.do(ctx, http.MethodPost, r.f.c.opPath(r.session, r.op)+"/cancel", struct{}{}, nil); err != nil {
			// Typically "FINISHED to CANCELED": the operation finished
			// once its job was submitted; closing it cancels the job.
			r.f.logger.Debug("flink cancel operation failed; closing it", logkey.Operation, r.op, logkey.Err, err)
		} else {
			r.f.logger.Debug("flink operation cancelled", logkey.Operation, r.op, logkey.Took, time.Since(start))
		}
		r.closeOp()
		r.f.stopJobs(r.session, r.job)
	})
}

// stopJobs stops the running Flink jobs named job. Cancelling or closing
// the gateway operation normally cancels its job, but an operation
// interrupted while it submits the job leaves the job running, unowned
// (Flink 1.20); so after a cancellation the session's SHOW JOBS is
// checked a few times as the submission may land late, and STOP JOB
// (without savepoint: a cancel) sent for any survivor.
// Close waits for these checks, cutting their waits short.
func (f *Flink) stopJobs(session, job string) {
	f.sweepMu.Lock()
	if f.closed {
		f.sweepMu.Unlock()
		return
	}
	f.sweeps.Add(1)
	f.sweepMu.Unlock()
	defer f.sweeps.Done()
	for _, wait := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second} {
		last := false
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-f.closing:
			t.Stop()
			last = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := f.stopJobsOnce(ctx, session, job)
		cancel()
		if err != nil {
			f.logger.Warn("flink: stopping the jobs of a cancelled query failed", logkey.Job, job, logkey.Err, err)
			return
		}
		if last {
			return
		}
	}
}

func (f *Flink) stopJobsOnce(ctx context.Context, session, job string) error {
	r, err := f.query(ctx, session, "SHOW JOBS")
	if err != nil {
		return err
	}
	var ids []string
	for r.Next() {
		rec := r.RecordBatch()
		if rec.NumCols() < 3 {
			break
		}
		idCol, nameCol, stateCol := rec.Column(0), rec.Column(1), rec.Column(2)
		for i := 0; i < int(rec.NumRows()); i++ {
			if nameCol.ValueStr(i) != job {
				continue
			}
			switch stateCol.ValueStr(i) {
			case "FINISHED", "CANCELED", "FAILED", "CANCELLING":
				continue
			}
			if id := idCol.ValueStr(i); flinkJobID.MatchString(id) {
				ids = append(ids, id)
			}
		}
	}
	err = r.Err()
	r.Release()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := f.execIn(ctx, session, "STOP JOB '"+id+"'"); err != nil {
			return fmt.Errorf("stop job %s: %w", id, err)
		}
		f.logger.Info("flink: stopped the job of a cancelled query", logkey.Job, job, logkey.JobID, id)
	}
	return nil
}

var flinkJobID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (r *flinkReader) closeOp() {
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.f.c.do(ctx, http.MethodDelete, r.f.c.opPath(r.session, r.op)+"/close", nil, nil); err != nil {
			r.f.logger.Debug("flink close operation failed", logkey.Operation, r.op, logkey.Err, err)
		}
	})
}

// Next builds the next non-empty page into a batch.
func (r *flinkReader) Next() bool {
	r.releaseCur()
	if r.err != nil {
		return false
	}
	for {
		page := r.pending
		r.pending = nil
		if page == nil {
			if r.next == "" {
				return false
			}
			var err error
			if page, err = r.fetch(); err != nil {
				r.err = wrapCtxErr(r.ctx, fmt.Errorf("flink query: read results: %w", err))
				return false
			}
		}
		if len(page.Results.Data) == 0 {
			continue
		}
		rec, err := r.build(page.Results.Data)
		if err != nil {
			r.err = fmt.Errorf("flink query: %w", err)
			return false
		}
		r.cur = rec
		return true
	}
}

// fetch gets the page at r.next, polling while the gateway answers
// NOT_READY, and advances r.next.
func (r *flinkReader) fetch() (*flinkResultPage, error) {
	wait := 5 * time.Millisecond
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		var page flinkResultPage
		if err := r.f.c.do(r.ctx, http.MethodGet, r.next, nil, &page); err != nil {
			return nil, err
		}
		switch page.ResultType {
		case "NOT_READY":
			// Same token: ask again.
		case "PAYLOAD", "EOS":
			r.next = page.NextResultURI
			if page.ResultType == "EOS" {
				r.next = ""
			}
			return &page, nil
		default:
			return nil, fmt.Errorf("gateway sent result type %q", page.ResultType)
		}
		if page.NextResultURI != "" {
			r.next = page.NextResultURI
		}
		t := time.NewTimer(wait)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return nil, r.ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, r.f.poll)
	}
}

func (r *flinkReader) build(rows []flinkRow) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(r.f.alloc, r.schema)
	defer b.Release()
	n := len(r.schema.Fields())
	apps := make([]appendFunc, n)
	for i := range apps {
		apps[i] = newAppender(b.Field(i), r.schema.Field(i).Type)
	}
	for _, row := range rows {
		if row.Kind != "" && row.Kind != "INSERT" {
			return nil, fmt.Errorf("result row of kind %s: the engine reads insert-only results (batch mode)", row.Kind)
		}
		if len(row.Fields) != n {
			return nil, fmt.Errorf("result row has %d fields, schema %d", len(row.Fields), n)
		}
		for i, v := range row.Fields {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			f := r.schema.Field(i)
			x, err := flinkValue(v, f.Type)
			if err == nil {
				err = apps[i](x)
			}
			if err != nil {
				return nil, fmt.Errorf("column %d %q (%s): %w", i, f.Name, f.Type, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}
