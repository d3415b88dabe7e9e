package guard

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Defaults used for zero Options fields.
const (
	DefaultDiffMaxAge     = 30 * 24 * time.Hour
	DefaultDiffMaxExports = 1000
	DefaultDiffMaxSets    = 100_000
	DefaultRateLimit      = 100
	DefaultRateWindow     = time.Hour
	DefaultRateBucket     = time.Minute
	DefaultTicketMaxTTL   = 24 * time.Hour
	DefaultUnitIDBits     = 40
	DefaultLockTimeout    = 5 * time.Second
)

// Options configures a Store. Zero fields take the defaults above; negative
// values are errors.
type Options struct {
	Diff   DiffOptions
	Rate   RateOptions
	Replay ReplayOptions
	// UnitIDBits is the width of the ids UnitID returns (32..64). It is
	// fixed when the file is created: ids of different widths cannot be
	// compared, so Open refuses a file made with another width.
	UnitIDBits int
	// LockTimeout bounds the wait for the file lock another process holds.
	LockTimeout time.Duration
}

// DiffOptions bounds the difference-check window of each analyst. The oldest
// exports are evicted first until all three limits hold; the export being
// recorded is never evicted, even when it alone has more than MaxSets groups.
type DiffOptions struct {
	MaxAge     time.Duration // older exports no longer count and are evicted
	MaxExports int           // recorded exports per analyst
	MaxSets    int           // recorded group sets per analyst, over all exports
}

// RateOptions is a sliding window: at most Limit queries per Window per
// analyst, counted in buckets of Bucket. A bucket counts while any part of it
// overlaps the window, so the limit is never looser than Limit per Window.
type RateOptions struct {
	Limit  int64
	Window time.Duration
	Bucket time.Duration
}

// ReplayOptions bounds how long a query id is remembered.
type ReplayOptions struct {
	// MaxTTL caps the expiry SeenTicket keeps: a ticket still valid after
	// MaxTTL from its first presentation could be replayed then, so callers
	// must not accept tickets that live longer (see SeenTicket).
	MaxTTL time.Duration
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	neg := func(path string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", path))
		}
	}
	neg("diff.max_age", int64(o.Diff.MaxAge))
	neg("diff.max_exports", int64(o.Diff.MaxExports))
	neg("diff.max_sets", int64(o.Diff.MaxSets))
	neg("rate.limit", o.Rate.Limit)
	neg("rate.window", int64(o.Rate.Window))
	neg("rate.bucket", int64(o.Rate.Bucket))
	neg("replay.max_ttl", int64(o.Replay.MaxTTL))
	neg("lock_timeout", int64(o.LockTimeout))
	if o.UnitIDBits != 0 && (o.UnitIDBits < 32 || o.UnitIDBits > 64) {
		errs = append(errs, fmt.Errorf("unit_id_bits: %d is outside 32..64", o.UnitIDBits))
	}
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def((*int64)(&o.Diff.MaxAge), int64(DefaultDiffMaxAge))
	def((*int64)(&o.Rate.Window), int64(DefaultRateWindow))
	def((*int64)(&o.Rate.Bucket), int64(DefaultRateBucket))
	def(&o.Rate.Limit, DefaultRateLimit)
	def((*int64)(&o.Replay.MaxTTL), int64(DefaultTicketMaxTTL))
	def((*int64)(&o.LockTimeout), int64(DefaultLockTimeout))
	if o.Diff.MaxExports == 0 {
		o.Diff.MaxExports = DefaultDiffMaxExports
	}
	if o.Diff.MaxSets == 0 {
		o.Diff.MaxSets = DefaultDiffMaxSets
	}
	if o.UnitIDBits == 0 {
		o.UnitIDBits = DefaultUnitIDBits
	}
	if o.Rate.Bucket > o.Rate.Window && o.Rate.Window > 0 {
		errs = append(errs, fmt.Errorf("rate.bucket: %s is longer than rate.window %s", o.Rate.Bucket, o.Rate.Window))
	}
	return o, errors.Join(errs...)
}

// Store is the site's durable guard state: difference-check window, rate
// counters and seen tickets, in one bbolt file. It is safe for concurrent use;
// bbolt runs one writing transaction at a time, so every check-then-write
// method is atomic.
type Store struct {
	db     *bolt.DB
	opts   Options
	path   string
	secret [32]byte // per-site key for unit ids and ticket keys
}

var (
	bktMeta      = []byte("meta")
	bktDiff      = []byte("diff")
	bktRate      = []byte("rate")
	bktTickets   = []byte("tickets")
	bktTicketExp = []byte("ticket_exp")

	keyVersion  = []byte("version")
	keySecret   = []byte("secret")
	keyUnitBits = []byte("unit_id_bits")
)

const schemaVersion = 1

// Open opens or creates the guard file at path. A new file gets a fresh
// random per-site secret. It fails if another process holds the file for
// longer than opts.LockTimeout, or if the file was made with another
// UnitIDBits or schema version.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("guard options for %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open guard store %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, path: path}
	if err := db.Update(s.init); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open guard store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init(tx *bolt.Tx) error {
	for _, name := range [][]byte{bktMeta, bktDiff, bktRate, bktTickets, bktTicketExp} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bktMeta)
	if v := meta.Get(keyVersion); v == nil {
		var secret [32]byte
		if _, err := rand.Read(secret[:]); err != nil {
			return fmt.Errorf("make site secret: %w", err)
		}
		if err := meta.Put(keySecret, secret[:]); err != nil {
			return err
		}
		if err := meta.Put(keyVersion, u64(schemaVersion)); err != nil {
			return err
		}
		if err := meta.Put(keyUnitBits, u64(uint64(s.opts.UnitIDBits))); err != nil {
			return err
		}
	} else if got := binary.BigEndian.Uint64(v); got != schemaVersion {
		return fmt.Errorf("schema version %d, this build reads %d", got, schemaVersion)
	}
	secret := meta.Get(keySecret)
	if len(secret) != len(s.secret) {
		return fmt.Errorf("site secret is %d bytes, want %d; the file is damaged", len(secret), len(s.secret))
	}
	copy(s.secret[:], secret)
	if v := meta.Get(keyUnitBits); v == nil || binary.BigEndian.Uint64(v) != uint64(s.opts.UnitIDBits) {
		return fmt.Errorf("file was made with unit_id_bits %d, options say %d; recorded unit ids of another width cannot be compared", binary.BigEndian.Uint64(append(make([]byte, 8-len(v)), v...)), s.opts.UnitIDBits)
	}
	return nil
}

// Close closes the file, waiting for running transactions.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close guard store %s: %w", s.path, err)
	}
	return nil
}

// Prune drops, for every analyst, difference-check exports past MaxAge, rate
// buckets that left the window, and tickets past their expiry. The other
// methods prune only what they touch; call Prune now and then (say hourly)
// so analysts who stopped querying do not keep state forever.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := s.pruneTickets(tx, now, -1); err != nil {
			return err
		}
		if err := pruneEach(tx.Bucket(bktRate), func(b *bolt.Bucket) error { _, err := s.pruneRate(b, now); return err }); err != nil {
			return err
		}
		return pruneEach(tx.Bucket(bktDiff), func(b *bolt.Bucket) error { return s.evict(b, now, 0) })
	})
	if err != nil {
		return fmt.Errorf("prune guard store %s: %w", s.path, err)
	}
	return nil
}

// pruneEach runs fn on every analyst sub-bucket of parent and deletes those
// left empty.
func pruneEach(parent *bolt.Bucket, fn func(*bolt.Bucket) error) error {
	var names [][]byte
	if err := parent.ForEachBucket(func(k []byte) error {
		names = append(names, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		b := parent.Bucket(name)
		if err := fn(b); err != nil {
			return err
		}
		if empty(b) {
			if err := parent.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// empty reports whether b has no keys other than counters and empty
// sub-buckets.
func empty(b *bolt.Bucket) bool {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			if len(k) > 0 && k[0] == '#' { // counters
				continue
			}
			return false
		}
		if sub := b.Bucket(k); sub != nil && !empty(sub) {
			return false
		}
	}
	return true
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// timeKey encodes t so that byte order is time order, also before 1970.
func timeKey(t time.Time) []byte { return u64(uint64(t.UnixNano()) ^ 1<<63) }

func keyTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^1<<63))
}

func checkName(what, v string) error {
	if v == "" {
		return fmt.Errorf("%s must not be empty", what)
	}
	if len(v) > 1024 {
		return fmt.Errorf("%s is %d bytes, longer than 1024", what, len(v))
	}
	return nil
}

// wrap adds what and whom to an operational error and maps a closed
// database to ErrClosed. Refusals pass through unchanged.
func (s *Store) wrap(err error, what, who string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDifference), errors.Is(err, ErrRateLimited), errors.Is(err, ErrReplay),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		err = ErrClosed
	}
	return fmt.Errorf("%s for %q in %s: %w", what, who, s.path, err)
}
