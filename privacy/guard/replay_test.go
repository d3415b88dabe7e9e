package guard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSeenTicket(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t, Options{Replay: ReplayOptions{MaxTTL: time.Hour}})
	ctx := context.Background()
	exp := t0.Add(10 * time.Minute)
	if err := s.SeenTicket(ctx, "q-1", exp, t0); err != nil {
		t.Fatalf("first: %v", err)
	}
	err := s.SeenTicket(ctx, "q-1", exp, t0.Add(time.Minute))
	var re *ReplayError
	if !errors.Is(err, ErrReplay) || !errors.As(err, &re) || re.QueryID != "q-1" {
		t.Fatalf("second: err = %v, want *ReplayError for q-1", err)
	}
	if err := s.SeenTicket(ctx, "q-2", exp, t0); err != nil {
		t.Fatalf("other id: %v", err)
	}
	if err := s.SeenTicket(ctx, "q-3", t0, t0); !errors.Is(err, ErrTicketExpired) {
		t.Fatalf("expired ticket: err = %v, want ErrTicketExpired", err)
	}
	// Close and reopen: still a replay.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{Replay: ReplayOptions{MaxTTL: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.SeenTicket(ctx, "q-1", exp, t0.Add(2*time.Minute)); !errors.Is(err, ErrReplay) {
		t.Fatalf("after reopen: err = %v, want ErrReplay", err)
	}
}

func TestSeenTicketPrunesAndCaps(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Replay: ReplayOptions{MaxTTL: time.Hour}})
	ctx := context.Background()
	if err := s.SeenTicket(ctx, "short", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SeenTicket(ctx, "long", t0.Add(48*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := s.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bktTickets).Stats().KeyN
			if m := tx.Bucket(bktTicketExp).Stats().KeyN; m != n {
				t.Errorf("%d tickets but %d expiry entries", n, m)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.Prune(ctx, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("after the short ticket expired: %d ids kept, want 1", n)
	}
	// The long one is kept for MaxTTL only, not 48h.
	if err := s.Prune(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after MaxTTL: %d ids kept, want 0", n)
	}
}

func TestSeenTicketConcurrentOnePasses(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() { errs[i] = s.SeenTicket(context.Background(), "q-same", t0.Add(time.Minute), t0) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrReplay):
			t.Error(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d presentations of one ticket passed, want 1", ok)
	}
}
