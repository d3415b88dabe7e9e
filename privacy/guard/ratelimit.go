package guard

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Allow counts one query for analyst at now if the analyst has made fewer
// than RateOptions.Limit queries in the window ending at now, and returns the
// count including this one only after the counter is fsync'd. Over the limit
// it counts nothing and returns the count in the window, how long until one
// more query would be allowed, and a *RateLimitError (errors.Is
// ErrRateLimited). Buckets that left the window are deleted on the way.
func (s *Store) Allow(ctx context.Context, analyst string, now time.Time) (count int64, retryAfter time.Duration, err error) {
	if err := checkName("rate limit: analyst", analyst); err != nil {
		return 0, 0, err
	}
	o := s.opts.Rate
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bktRate).CreateBucketIfNotExists([]byte(analyst))
		if err != nil {
			return err
		}
		buckets, err := s.pruneRate(b, now)
		if err != nil {
			return err
		}
		var sum int64
		for _, bk := range buckets {
			sum += bk.n
		}
		if sum >= o.Limit {
			count = sum
			// The window drops its oldest buckets one by one; find the
			// first moment the rest is under the limit.
			left := sum
			for _, bk := range buckets {
				left -= bk.n
				if left < o.Limit {
					retryAfter = max(bk.start.Add(o.Bucket+o.Window).Sub(now), time.Nanosecond)
					break
				}
			}
			return &RateLimitError{Analyst: analyst, Limit: o.Limit, Window: o.Window, RetryAfter: retryAfter}
		}
		key := timeKey(now.Truncate(o.Bucket))
		n := int64(0)
		if v := b.Get(key); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		count = sum + 1
		return b.Put(key, u64(uint64(n+1)))
	})
	if err != nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			return count, retryAfter, err
		}
		return 0, 0, s.wrap(err, "rate limit", analyst)
	}
	return count, 0, nil
}

type rateBucket struct {
	start time.Time
	n     int64
}

// pruneRate deletes the buckets of b that no longer overlap the window ending
// at now and returns the others, oldest first. Buckets after now (the clock
// went back) still count: the limit errs on the strict side.
func (s *Store) pruneRate(b *bolt.Bucket, now time.Time) ([]rateBucket, error) {
	o := s.opts.Rate
	var live []rateBucket
	var dead [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		start := keyTime(k)
		if !start.Add(o.Bucket).After(now.Add(-o.Window)) {
			dead = append(dead, append([]byte(nil), k...))
			continue
		}
		live = append(live, rateBucket{start: start, n: int64(binary.BigEndian.Uint64(v))})
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return live, nil
}
