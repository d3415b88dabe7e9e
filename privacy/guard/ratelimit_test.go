package guard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

func TestAllowSlidingWindow(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Rate: RateOptions{Limit: 3, Window: 10 * time.Minute, Bucket: time.Minute}})
	ctx := context.Background()
	type result struct {
		Count   int64
		Retry   time.Duration
		Limited bool
	}
	steps := []struct {
		at   time.Duration
		want result
	}{
		{0, result{Count: 1}},
		{30 * time.Second, result{Count: 2}},
		{2 * time.Minute, result{Count: 3}},
		// Bucket [0,1m) leaves the window ending at t when t-10m >= 1m.
		{3 * time.Minute, result{Count: 3, Retry: 8 * time.Minute, Limited: true}},
		{10*time.Minute + 59*time.Second, result{Count: 3, Retry: time.Second, Limited: true}},
		{11 * time.Minute, result{Count: 2}},
		{11*time.Minute + time.Second, result{Count: 3, Retry: 0}},
		{12 * time.Minute, result{Count: 3, Retry: time.Minute, Limited: true}},
	}
	for _, st := range steps {
		n, retry, err := s.Allow(ctx, analyst, t0.Add(st.at))
		if err != nil && !errors.Is(err, ErrRateLimited) {
			t.Fatal(err)
		}
		got := result{Count: n, Retry: retry, Limited: err != nil}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("at +%s (-want +got):\n%s", st.at, diff)
		}
		var rl *RateLimitError
		if err != nil && (!errors.As(err, &rl) || rl.RetryAfter != retry || rl.Analyst != analyst) {
			t.Errorf("at +%s: error %#v does not carry the refusal", st.at, err)
		}
	}
}

func TestAllowPerAnalystAndBounded(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Rate: RateOptions{Limit: 1000, Window: time.Hour, Bucket: time.Minute}})
	ctx := context.Background()
	for i := range 300 { // one query a minute for five hours
		if _, _, err := s.Allow(ctx, "alice", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	n, _, err := s.Allow(ctx, "bob", t0.Add(300*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("bob: count %d, err %v; want 1, nil", n, err)
	}
	var buckets int
	if err := s.db.View(func(tx *bolt.Tx) error {
		buckets = tx.Bucket(bktRate).Bucket([]byte("alice")).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if buckets > 61 {
		t.Fatalf("alice keeps %d buckets for a 60-minute window", buckets)
	}
}

func TestAllowConcurrentNeverOverLimit(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Rate: RateOptions{Limit: 10}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[int64]bool{}
	for range 30 {
		wg.Go(func() {
			n, _, err := s.Allow(context.Background(), analyst, t0)
			if err == nil {
				mu.Lock()
				allowed[n] = true
				mu.Unlock()
			} else if !errors.Is(err, ErrRateLimited) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(allowed) != 10 {
		t.Fatalf("%d queries allowed (counts %v), want 10 with distinct counts", len(allowed), allowed)
	}
}

func TestAllowSurvivesReopen(t *testing.T) {
	t.Parallel()
	opts := Options{Rate: RateOptions{Limit: 2}}
	s, path := openTemp(t, opts)
	ctx := context.Background()
	for range 2 {
		if _, _, err := s.Allow(ctx, analyst, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, _, err := s2.Allow(ctx, analyst, t0.Add(time.Second)); !errors.Is(err, ErrRateLimited) || n != 2 {
		t.Fatalf("after reopen: count %d, err %v; want 2, ErrRateLimited", n, err)
	}
}
