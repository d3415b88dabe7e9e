package guard

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpenValidatesOptions(t *testing.T) {
	t.Parallel()
	_, err := Open(filepath.Join(t.TempDir(), "g.db"), Options{
		Diff:       DiffOptions{MaxAge: -1},
		Rate:       RateOptions{Limit: -2, Window: time.Minute, Bucket: time.Hour},
		UnitIDBits: 16,
	})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"diff.max_age: must not be negative", "rate.limit: must not be negative", "rate.bucket: 1h0m0s is longer than rate.window 1m0s", "unit_id_bits: 16 is outside 32..64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
}

func TestOpenRefusesOtherUnitIDBits(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t, Options{UnitIDBits: 48})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "unit_id_bits 48, options say 40") {
		t.Fatalf("err = %v, want a width mismatch", err)
	}
}

func TestOpenIsExclusive(t *testing.T) {
	t.Parallel()
	_, path := openTemp(t, Options{})
	if _, err := Open(path, Options{LockTimeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("second open: err = %v, want a lock timeout naming the file", err)
	}
}

func TestClosedStoreFails(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := s.Allow(ctx, analyst, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Allow: %v", err)
	}
	if err := s.SeenTicket(ctx, "q", t0.Add(time.Minute), t0); !errors.Is(err, ErrClosed) {
		t.Errorf("SeenTicket: %v", err)
	}
	if err := s.CheckAndRecord(ctx, analyst, "t", groups(rng(1, 9)), 3, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("CheckAndRecord: %v", err)
	}
	if err := s.Check(ctx, analyst, "t", groups(rng(1, 9)), 3, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Check: %v", err)
	}
}

// TestPruneForgetsIdleAnalysts: an analyst who stopped querying leaves no
// buckets behind after Prune.
func TestPruneForgetsIdleAnalysts(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Diff: DiffOptions{MaxAge: 24 * time.Hour}})
	ctx := context.Background()
	if _, _, err := s.Allow(ctx, "idle", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAndRecord(ctx, "idle", "t", groups(rng(1, 50)), 5, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAndRecord(ctx, "busy", "t", groups(rng(1, 50)), 5, t0.Add(47*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := s.db.View(func(tx *bolt.Tx) error {
		for _, parent := range [][]byte{bktRate, bktDiff} {
			_ = tx.Bucket(parent).ForEachBucket(func(k []byte) error {
				names = append(names, string(parent)+"/"+string(k))
				return nil
			})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "diff/busy" {
		t.Fatalf("buckets after prune: %v, want [diff/busy]", names)
	}
	// The busy analyst's set still counts.
	if err := s.Check(ctx, "busy", "t", groups(rng(1, 49)), 5, t0.Add(48*time.Hour)); !errors.Is(err, ErrDifference) {
		t.Fatalf("busy analyst's window lost: %v", err)
	}
}
