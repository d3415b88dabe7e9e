// The Spark adapter's result reader: the Arrow batches of one ExecutePlan
// response stream, handed on one by one.

package enginebridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// sparkReader streams the Arrow batches of one ExecutePlan call.
type sparkReader struct {
	s             *Spark
	ctx           context.Context
	opID          string
	stream        grpc.ClientStream
	cancel        context.CancelFunc
	stopInterrupt func() bool
	refs          atomic.Int64

	schema  *arrow.Schema
	pending []arrow.RecordBatch
	cur     arrow.RecordBatch
	done    bool // the stream ended normally
	ended   bool // the server ended the operation (an error status)
	err     error
}

var _ array.RecordReader = (*sparkReader)(nil)

func (r *sparkReader) Retain() { r.refs.Add(1) }

func (r *sparkReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	interrupted := !r.stopInterrupt() // the context's interrupt already ran
	if !r.done && !r.ended && !interrupted {
		// Released before the end: stop the server's work too.
		r.s.interrupt(r.opID, time.Now())
	}
	r.cancel()
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for _, b := range r.pending {
		b.Release()
	}
	r.pending = nil
}

func (r *sparkReader) Schema() *arrow.Schema { return r.schema }

func (r *sparkReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for len(r.pending) == 0 {
		if !r.recv() {
			return false
		}
	}
	r.cur = r.pending[0]
	r.pending = r.pending[1:]
	return true
}

func (r *sparkReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name of RecordBatch.
func (r *sparkReader) Record() arrow.RecordBatch { return r.cur }

func (r *sparkReader) Err() error { return r.err }

// recv receives one response message and queues its batches (without
// empty ones). It returns false at the end of the stream or on error.
func (r *sparkReader) recv() bool {
	if r.done || r.err != nil {
		return false
	}
	var msg []byte
	if err := r.stream.RecvMsg(&msg); err != nil {
		if errors.Is(err, io.EOF) {
			r.done = true
			r.stopInterrupt()
			return false
		}
		r.ended = status.Code(err) != codes.Canceled && status.Code(err) != codes.DeadlineExceeded
		if r.ended {
			r.stopInterrupt()
		}
		r.fail(r.s.rpcErr(err))
		return false
	}
	resp, err := decodeExecutePlanResponse(msg)
	if err != nil {
		r.fail(err)
		return false
	}
	if resp.sessionID != "" && resp.sessionID != r.s.sessionID {
		r.fail(fmt.Errorf("server answered for session %s, not %s", resp.sessionID, r.s.sessionID))
		return false
	}
	if resp.arrowData != nil {
		if err := r.addBatches(resp.arrowData); err != nil {
			r.fail(err)
			return false
		}
	}
	return true
}

func (r *sparkReader) fail(err error) {
	r.err = wrapCtxErr(r.ctx, fmt.Errorf("spark query (operation %s): %w", r.opID, err))
}

// addBatches decodes one Arrow IPC stream (a schema and its batches) and
// checks its columns against the type mapping (spark_types.go).
func (r *sparkReader) addBatches(data []byte) error {
	rd, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(r.s.alloc))
	if err != nil {
		return fmt.Errorf("read arrow batch: %w", err)
	}
	defer rd.Release()
	schema := rd.Schema()
	if r.schema == nil {
		if err := checkSparkSchema(schema); err != nil {
			return err
		}
		r.schema = schema
	} else if !r.schema.Equal(schema) {
		return fmt.Errorf("arrow batch schema %v differs from the first batch's %v", schema, r.schema)
	}
	for rd.Next() {
		b := rd.RecordBatch()
		if b.NumRows() == 0 {
			continue
		}
		b.Retain()
		r.pending = append(r.pending, b)
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read arrow batch: %w", err)
	}
	return nil
}
