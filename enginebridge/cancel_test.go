package enginebridge

import (
	"context"
	"errors"
	"testing"
	"time"
)

// expensiveQuery would run for hours: a cross join of two 100M-row ranges.
const expensiveQuery = `SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b`

// TestDuckDBCancelStopsQuery cancels an expensive query after 200ms and
// expects Query or the reader to fail with context.Canceled soon after.
func TestDuckDBCancelStopsQuery(t *testing.T) {
	t.Parallel()
	e := openEngine(t, checkedConfig(t, DuckDBConfig{}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)

	done := make(chan error, 1)
	start := time.Now()
	go func() {
		r, err := e.Query(ctx, expensiveQuery, nil)
		if err != nil {
			done <- err
			return
		}
		defer r.Release()
		for r.Next() {
		}
		done <- r.Err()
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want one wrapping context.Canceled", err)
		}
		t.Logf("stopped %v after start", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("query still running 5s after start, 4.8s after cancel")
	}
	// The engine stays usable after an interrupted query.
	_, rows := queryRows(t, e, "SELECT 1")
	if len(rows) != 1 {
		t.Errorf("follow-up query returned %d rows, want 1", len(rows))
	}
}

func TestDuckDBDeadlineExceeded(t *testing.T) {
	t.Parallel()
	e := openEngine(t, DuckDBConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err := e.Query(ctx, expensiveQuery, nil)
	if err == nil {
		for r.Next() {
		}
		err = r.Err()
		r.Release()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
	}
}

// TestDuckDBCancelWhileReading cancels between batches of a large result.
func TestDuckDBCancelWhileReading(t *testing.T) {
	t.Parallel()
	e := openEngine(t, checkedConfig(t, DuckDBConfig{BatchSize: 1000}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := e.Query(ctx, "SELECT range FROM range(1000000)", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatalf("first batch missing: %v", r.Err())
	}
	cancel()
	batches := 0
	for r.Next() {
		batches++
	}
	if batches > 0 {
		t.Errorf("read %d more batches after cancel, want none", batches)
	}
	if !errors.Is(r.Err(), context.Canceled) {
		t.Errorf("Err() = %v, want one wrapping context.Canceled", r.Err())
	}
}

func TestDuckDBQueryWithCancelledContext(t *testing.T) {
	t.Parallel()
	e := openEngine(t, DuckDBConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want one wrapping context.Canceled", err)
	}
}
