package flight

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/credentials"

	"github.com/fedmesh/fedmesh/planner"
)

// handlerFunc adapts a function to Handler.
type handlerFunc func(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*Result, error)

func (f handlerFunc) Serve(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*Result, error) {
	return f(ctx, peer, sp)
}

// testServer is one site agent's Flight server on loopback.
type testServer struct {
	addr string
	stop func() // cancels Serve and waits for it to return
	logs *logBuffer
}

func startServer(t *testing.T, h Handler, creds credentials.TransportCredentials, grace time.Duration) *testServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	logs := &logBuffer{}
	srv := NewServer(h, slog.New(slog.NewTextHandler(logs, nil)))
	srv.ShutdownGrace = grace
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, creds) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve returned %v after its context was cancelled, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Serve did not return within 10s of cancellation")
			}
		})
	}
	t.Cleanup(stop)
	return &testServer{addr: lis.Addr().String(), stop: stop, logs: logs}
}

// logBuffer collects logs; it outlives the test safely (t.Log would panic
// if a gRPC goroutine logged after the test ended).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestClient(t *testing.T, targets []Target) *Client {
	t.Helper()
	c, err := NewClient(targets, slog.New(slog.NewTextHandler(&logBuffer{}, nil)))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

var resultSchema = arrow.NewSchema([]arrow.Field{
	{Name: "g0", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "a0", Type: arrow.PrimitiveTypes.Int64},
	{Name: "a1", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, func() *arrow.Metadata { md := arrow.NewMetadata([]string{"engine"}, []string{"duckdb"}); return &md }())

// testBatches builds two batches of partial aggregates (5 rows in all).
func testBatches(mem memory.Allocator) []arrow.RecordBatch {
	build := func(keys []string, valid []bool, counts []int64, sums []float64) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, resultSchema)
		defer b.Release()
		b.Field(0).(*array.StringBuilder).AppendValues(keys, valid)
		b.Field(1).(*array.Int64Builder).AppendValues(counts, nil)
		b.Field(2).(*array.Float64Builder).AppendValues(sums, []bool{true, false, true}[:len(sums)])
		return b.NewRecordBatch()
	}
	return []arrow.RecordBatch{
		build([]string{"eng", "", "ops"}, []bool{true, false, true}, []int64{12, 7, 40}, []float64{1.5, 0, -3.25}),
		build([]string{"hr", "légal"}, nil, []int64{11, 9}, []float64{1e300, 2}),
	}
}

// rowsOf flattens batches into Go values for cmp.Diff.
func rowsOf(batches []arrow.RecordBatch) [][]any {
	var out [][]any
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]any, b.NumCols())
			for c := range row {
				row[c] = b.Column(c).GetOneForMarshal(r)
			}
			out = append(out, row)
		}
	}
	return out
}

// waitFor polls cond for up to 5s; tests use it for effects that happen
// after a stream has already ended at the client.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func asSiteError(t *testing.T, err error) *SiteError {
	t.Helper()
	var se *SiteError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want a *SiteError", err, err)
	}
	return se
}
