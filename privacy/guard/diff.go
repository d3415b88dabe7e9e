package guard

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	bolt "go.etcd.io/bbolt"
)

// Layout of one analyst's bucket under "diff":
//
//	x/<seq>                          -> time | len(scope) u16 | scope | n u32 | n × card u64
//	s/<len u16><scope><card><seq><i> -> time | profile | roaring64 bitmap
//	#exports, #sets                  -> counters
//
// Sets are keyed by scope then cardinality, so the candidates for a group of
// cardinality c are one cursor range [c-k+1, c+k-1].
var (
	bktExports  = []byte("x")
	bktSets     = []byte("s")
	keyNExports = []byte("#exports")
	keyNSets    = []byte("#sets")
)

// Check reports whether an export with these groups, each the set of unit ids
// behind one exported group over the tables named by scope, may leave. It
// returns a *DifferenceError (errors.Is ErrDifference) when any group differs
// by 1..k-1 units (symmetric difference) from another group of the same
// export or from a set recorded for the same analyst and scope within the
// window; identical sets pass. k <= 1 checks nothing. Other errors are
// operational; treat every non-nil error as "do not export".
//
// Check alone is not atomic with Record: two concurrent exports can both pass
// Check. Use CheckAndRecord on the export path.
//
// Cost, for G groups and S recorded sets in the scope: O(G log G + G log S)
// cursor work, plus, for each pair whose cardinalities differ by less than k,
// an O(64) bound from per-partition counts, plus, for each pair that survives
// it, one roaring AndCardinality (linear in the containers of the smaller
// set). Computing a new group's partition counts is one pass over its units,
// done only if some pair needs it.
func (s *Store) Check(ctx context.Context, analyst, scope string, groups []*roaring64.Bitmap, k int, now time.Time) error {
	if err := validDiff(analyst, scope, groups); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error { return s.check(ctx, tx, analyst, scope, groups, k, now) })
	return s.wrap(err, "difference check", analyst)
}

// Record adds the groups of an allowed export to the analyst's window and
// fsyncs before returning; call it after the export is allowed and before it
// leaves. Older exports beyond DiffOptions are evicted in the same
// transaction.
func (s *Store) Record(ctx context.Context, analyst, scope string, groups []*roaring64.Bitmap, now time.Time) error {
	if err := validDiff(analyst, scope, groups); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bolt.Tx) error { return s.record(tx, analyst, scope, groups, now) })
	return s.wrap(err, "record export", analyst)
}

// CheckAndRecord is Check then, if the export passes, Record, in one
// transaction: of two concurrent near-identical exports at most one passes.
// It returns nil only when the export may leave and is durably recorded.
func (s *Store) CheckAndRecord(ctx context.Context, analyst, scope string, groups []*roaring64.Bitmap, k int, now time.Time) error {
	if err := validDiff(analyst, scope, groups); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := s.check(ctx, tx, analyst, scope, groups, k, now); err != nil {
			return err
		}
		return s.record(tx, analyst, scope, groups, now)
	})
	return s.wrap(err, "difference check", analyst)
}

func validDiff(analyst, scope string, groups []*roaring64.Bitmap) error {
	if err := checkName("difference check: analyst", analyst); err != nil {
		return err
	}
	if err := checkName("difference check: scope", scope); err != nil {
		return err
	}
	for i, g := range groups {
		if g == nil {
			return fmt.Errorf("difference check: group %d of scope %q is a nil bitmap", i, scope)
		}
	}
	return nil
}

// group is one candidate set with its partition counts computed on demand.
type group struct {
	bm   *roaring64.Bitmap
	card uint64
	prof *profile
}

func (g *group) profile() *profile {
	if g.prof == nil {
		g.prof = profileOf(g.bm)
	}
	return g.prof
}

func (s *Store) check(ctx context.Context, tx *bolt.Tx, analyst, scope string, groups []*roaring64.Bitmap, k int, now time.Time) error {
	if k <= 1 || len(groups) == 0 {
		return nil
	}
	kk := uint64(k)
	refuse := &DifferenceError{Scope: scope, K: k}
	gs := make([]group, len(groups))
	for i, bm := range groups {
		gs[i] = group{bm: bm, card: bm.GetCardinality()}
	}
	// Siblings: groups of one export may overlap (ROLLUP, GROUPING SETS).
	slices.SortFunc(gs, func(a, b group) int { return cmpU64(a.card, b.card) })
	for i := range gs {
		for j := i + 1; j < len(gs) && gs[j].card-gs[i].card < kk; j++ {
			a, b := &gs[i], &gs[j]
			if a.profile().distance(b.profile(), kk) >= kk {
				continue
			}
			if near(a.card, b.card, a.bm.AndCardinality(b.bm), kk) {
				return refuse
			}
		}
	}
	ab := tx.Bucket(bktDiff).Bucket([]byte(analyst))
	if ab == nil {
		return nil
	}
	sets := ab.Bucket(bktSets)
	if sets == nil {
		return nil
	}
	cutoff := now.Add(-s.opts.Diff.MaxAge)
	prefix := scopePrefix(scope)
	seek := append(slices.Clip(prefix), make([]byte, 8)...)
	loaded := map[string]*roaring64.Bitmap{}
	c := sets.Cursor()
	for i := range gs {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		g := &gs[i]
		lo := uint64(0)
		if g.card >= kk {
			lo = g.card - kk + 1
		}
		binary.BigEndian.PutUint64(seek[len(prefix):], lo)
		for key, v := c.Seek(seek); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
			card := binary.BigEndian.Uint64(key[len(prefix):])
			if card > g.card+kk-1 {
				break
			}
			if len(v) < setHeader {
				return fmt.Errorf("recorded set is %d bytes, shorter than its header; the file is damaged", len(v))
			}
			if !keyTime(v[:8]).After(cutoff) {
				continue // aged out, not yet evicted
			}
			var rp profile
			rp.decode(v[8:setHeader])
			if g.profile().distance(&rp, kk) >= kk {
				continue
			}
			bm := loaded[string(key)]
			if bm == nil {
				bm = roaring64.New()
				// Zero-copy view of the mmap'd page, valid for this
				// transaction; the bitmap is only read.
				if _, err := bm.FromUnsafeBytes(v[setHeader:]); err != nil {
					return fmt.Errorf("decode recorded set: %w", err)
				}
				loaded[string(key)] = bm
			}
			if near(g.card, card, g.bm.AndCardinality(bm), kk) {
				return refuse
			}
		}
	}
	return nil
}

// near reports whether sets of cardinalities a and b with intersection n
// differ by 1..k-1 units.
func near(a, b, n, k uint64) bool {
	d := a + b - 2*n
	return d >= 1 && d < k
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func scopePrefix(scope string) []byte {
	p := make([]byte, 2, 2+len(scope))
	binary.BigEndian.PutUint16(p, uint16(len(scope)))
	return append(p, scope...)
}

const setHeader = 8 + profileBytes

func (s *Store) record(tx *bolt.Tx, analyst, scope string, groups []*roaring64.Bitmap, now time.Time) error {
	ab, err := tx.Bucket(bktDiff).CreateBucketIfNotExists([]byte(analyst))
	if err != nil {
		return err
	}
	xb, err := ab.CreateBucketIfNotExists(bktExports)
	if err != nil {
		return err
	}
	sb, err := ab.CreateBucketIfNotExists(bktSets)
	if err != nil {
		return err
	}
	seq, err := ab.NextSequence()
	if err != nil {
		return err
	}
	prefix := scopePrefix(scope)
	ts := timeKey(now)
	export := binary.BigEndian.AppendUint16(slices.Clip(ts), uint16(len(scope)))
	export = append(export, scope...)
	export = binary.BigEndian.AppendUint32(export, uint32(len(groups)))
	for i, bm := range groups {
		card := bm.GetCardinality()
		export = binary.BigEndian.AppendUint64(export, card)
		key := setKey(prefix, card, seq, i)
		val := bytes.NewBuffer(make([]byte, setHeader, setHeader+int(bm.GetSerializedSizeInBytes())))
		copy(val.Bytes(), ts)
		profileOf(bm).encode(val.Bytes()[8:setHeader])
		if _, err := bm.WriteTo(val); err != nil {
			return fmt.Errorf("encode group %d: %w", i, err)
		}
		if err := sb.Put(key, val.Bytes()); err != nil {
			return err
		}
	}
	if err := xb.Put(u64(seq), export); err != nil {
		return err
	}
	if err := addCounter(ab, keyNExports, 1); err != nil {
		return err
	}
	if err := addCounter(ab, keyNSets, int64(len(groups))); err != nil {
		return err
	}
	return s.evict(ab, now, seq)
}

func setKey(prefix []byte, card, seq uint64, i int) []byte {
	k := append(slices.Clip(prefix), make([]byte, 20)...)
	binary.BigEndian.PutUint64(k[len(prefix):], card)
	binary.BigEndian.PutUint64(k[len(prefix)+8:], seq)
	binary.BigEndian.PutUint32(k[len(prefix)+16:], uint32(i))
	return k
}

// evict drops the analyst's oldest exports until the window's limits hold,
// never the export keep.
func (s *Store) evict(ab *bolt.Bucket, now time.Time, keep uint64) error {
	xb, sb := ab.Bucket(bktExports), ab.Bucket(bktSets)
	if xb == nil || sb == nil {
		return nil
	}
	cutoff := now.Add(-s.opts.Diff.MaxAge)
	for {
		k, v := xb.Cursor().First()
		k, v = bytes.Clone(k), bytes.Clone(v)
		if k == nil || binary.BigEndian.Uint64(k) == keep {
			return nil
		}
		nx, ns := counter(ab, keyNExports), counter(ab, keyNSets)
		if nx <= int64(s.opts.Diff.MaxExports) && ns <= int64(s.opts.Diff.MaxSets) && keyTime(v[:8]).After(cutoff) {
			return nil
		}
		seq := binary.BigEndian.Uint64(k)
		scopeLen := int(binary.BigEndian.Uint16(v[8:10]))
		prefix := scopePrefix(string(v[10 : 10+scopeLen]))
		rest := v[10+scopeLen:]
		n := int(binary.BigEndian.Uint32(rest))
		cards := rest[4:]
		for i := 0; i < n; i++ {
			if err := sb.Delete(setKey(prefix, binary.BigEndian.Uint64(cards[8*i:]), seq, i)); err != nil {
				return err
			}
		}
		if err := xb.Delete(k); err != nil {
			return err
		}
		if err := addCounter(ab, keyNExports, -1); err != nil {
			return err
		}
		if err := addCounter(ab, keyNSets, -int64(n)); err != nil {
			return err
		}
	}
}

func counter(b *bolt.Bucket, key []byte) int64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func addCounter(b *bolt.Bucket, key []byte, d int64) error {
	return b.Put(key, u64(uint64(counter(b, key)+d)))
}
