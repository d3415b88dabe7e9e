package guard

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/google/go-cmp/cmp"
)

const analyst = "spiffe://fedmesh.example/analyst/alice"

func TestCheckAndRecordRefusesSmallDifferences(t *testing.T) {
	t.Parallel()
	base := rng(1, 101) // 100 units
	tests := []struct {
		name      string
		candidate *roaring64.Bitmap
		k         int
		refused   bool
	}{
		{"identical set is the same answer again", base.Clone(), 5, false},
		{"one unit removed", with(base, nil, []uint64{7}), 5, true},
		{"one unit added", with(base, []uint64{500}, nil), 5, true},
		{"one swapped (difference 2)", with(base, []uint64{500}, []uint64{7}), 5, true},
		{"k-1 removed", with(base, nil, []uint64{1, 2, 3, 4}), 5, true},
		{"k removed", with(base, nil, []uint64{1, 2, 3, 4, 5}), 5, false},
		{"two added two removed (difference 4)", with(base, []uint64{501, 502}, []uint64{1, 2}), 5, true},
		{"three added two removed (difference 5)", with(base, []uint64{501, 502, 503}, []uint64{1, 2}), 5, false},
		{"same size, disjoint", rng(1001, 1101), 5, false},
		{"k 1 checks nothing", with(base, nil, []uint64{7}), 1, false},
		{"k 0 checks nothing", with(base, nil, []uint64{7}), 0, false},
		{"large k", rng(1, 51), 51, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openTemp(t, Options{})
			ctx := context.Background()
			if err := s.CheckAndRecord(ctx, analyst, "hospital.visits", groups(base), tc.k, t0); err != nil {
				t.Fatalf("first export: %v", err)
			}
			checkErr := s.Check(ctx, analyst, "hospital.visits", groups(tc.candidate), tc.k, t0.Add(time.Hour))
			err := s.CheckAndRecord(ctx, analyst, "hospital.visits", groups(tc.candidate), tc.k, t0.Add(time.Hour))
			if got := errors.Is(err, ErrDifference); got != tc.refused {
				t.Fatalf("CheckAndRecord refused = %v (err %v), want %v", got, err, tc.refused)
			}
			if got := errors.Is(checkErr, ErrDifference); got != tc.refused {
				t.Fatalf("Check refused = %v (err %v), want %v", got, checkErr, tc.refused)
			}
			if !tc.refused && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
}

// TestDifferenceIsSymmetric records the smaller set first, then the larger,
// and the other way round: both orders are refused.
func TestDifferenceIsSymmetric(t *testing.T) {
	t.Parallel()
	small, large := rng(1, 100), rng(1, 101)
	for _, order := range [][2]*roaring64.Bitmap{{small, large}, {large, small}} {
		s, _ := openTemp(t, Options{})
		ctx := context.Background()
		if err := s.CheckAndRecord(ctx, analyst, "t", groups(order[0]), 10, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckAndRecord(ctx, analyst, "t", groups(order[1]), 10, t0); !errors.Is(err, ErrDifference) {
			t.Fatalf("second export: err = %v, want ErrDifference", err)
		}
	}
}

func TestSiblingGroupsAreCompared(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		groups  []*roaring64.Bitmap
		refused bool
	}{
		{"rollup total one unit over a group", groups(rng(1, 101), rng(1, 102)), true},
		{"disjoint groups", groups(rng(1, 101), rng(101, 201), rng(201, 301)), false},
		{"total of two groups", groups(rng(1, 101), rng(101, 201), rng(1, 201)), false},
		{"duplicate groups", groups(rng(1, 101), rng(1, 101)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openTemp(t, Options{})
			err := s.CheckAndRecord(context.Background(), analyst, "t", tc.groups, 5, t0)
			if got := errors.Is(err, ErrDifference); got != tc.refused {
				t.Fatalf("refused = %v (err %v), want %v", got, err, tc.refused)
			}
		})
	}
}

func TestDifferenceErrorNamesScopeAndKOnly(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	if err := s.CheckAndRecord(ctx, analyst, "clinic.visits", groups(rng(424242, 424342)), 7, t0); err != nil {
		t.Fatal(err)
	}
	err := s.CheckAndRecord(ctx, analyst, "clinic.visits", groups(rng(424242, 424341)), 7, t0)
	var de *DifferenceError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DifferenceError", err)
	}
	if diff := cmp.Diff(&DifferenceError{Scope: "clinic.visits", K: 7}, de); diff != "" {
		t.Errorf("error fields (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, leak := range []string{"424", "99", "100", "group 0"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q carries data-dependent text %q", msg, leak)
		}
	}
	if msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
		t.Errorf("error %q should start lowercase and have no trailing period", msg)
	}
}

func TestWindowIsPerAnalystAndScope(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	if err := s.CheckAndRecord(ctx, "alice", "a.t", groups(rng(1, 101)), 5, t0); err != nil {
		t.Fatal(err)
	}
	near := groups(rng(1, 100))
	if err := s.Check(ctx, "bob", "a.t", near, 5, t0); err != nil {
		t.Errorf("another analyst: %v", err)
	}
	if err := s.Check(ctx, "alice", "a.u", near, 5, t0); err != nil {
		t.Errorf("another scope: %v", err)
	}
	// A scope that is a prefix of another must not see its sets.
	if err := s.Check(ctx, "alice", "a.", near, 5, t0); err != nil {
		t.Errorf("prefix scope: %v", err)
	}
	if err := s.Check(ctx, "alice", "a.t", near, 5, t0); !errors.Is(err, ErrDifference) {
		t.Errorf("same analyst and scope: err = %v, want ErrDifference", err)
	}
}

func TestCheckDoesNotRecord(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	a, b := rng(1, 101), rng(1, 100)
	if err := s.Check(ctx, analyst, "t", groups(a), 5, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, analyst, "t", groups(b), 5, t0); err != nil {
		t.Fatalf("Check recorded its groups: %v", err)
	}
	if err := s.Record(ctx, analyst, "t", groups(a), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, analyst, "t", groups(b), 5, t0); !errors.Is(err, ErrDifference) {
		t.Fatalf("after Record: err = %v, want ErrDifference", err)
	}
}

func TestWindowEviction(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name string
		opts DiffOptions
		// exports[i] is recorded at t0 + i days; each is rng(1000i, 1000i+100).
		exports int
		at      time.Duration
		// forgotten[i]: the near copy of export i passes at t0+at.
		forgotten []bool
	}{
		{"max age", DiffOptions{MaxAge: 10 * day}, 3, 11*day + time.Second, []bool{true, true, false}},
		{"max age boundary", DiffOptions{MaxAge: 10 * day}, 3, 10 * day, []bool{true, false, false}},
		{"max age not yet", DiffOptions{MaxAge: 10 * day}, 3, 10*day - time.Second, []bool{false, false, false}},
		{"max exports", DiffOptions{MaxExports: 2}, 4, 4 * day, []bool{true, true, false, false}},
		{"max sets", DiffOptions{MaxSets: 3}, 4, 4 * day, []bool{true, false, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openTemp(t, Options{Diff: tc.opts})
			ctx := context.Background()
			for i := range tc.exports {
				g := rng(uint64(1000*i), uint64(1000*i+100))
				if err := s.CheckAndRecord(ctx, analyst, "t", groups(g), 5, t0.Add(time.Duration(i)*day)); err != nil {
					t.Fatal(err)
				}
			}
			var got []bool
			for i := range tc.exports {
				near := rng(uint64(1000*i), uint64(1000*i+99))
				err := s.Check(ctx, analyst, "t", groups(near), 5, t0.Add(tc.at))
				if err != nil && !errors.Is(err, ErrDifference) {
					t.Fatal(err)
				}
				got = append(got, err == nil)
			}
			if diff := cmp.Diff(tc.forgotten, got); diff != "" {
				t.Errorf("forgotten exports (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBigExportKeptAboveMaxSets: an export larger than MaxSets is still
// recorded (evicting all older ones), not silently dropped.
func TestBigExportKeptAboveMaxSets(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{Diff: DiffOptions{MaxSets: 2}})
	ctx := context.Background()
	gs := groups(rng(0, 100), rng(1000, 1100), rng(2000, 2100))
	if err := s.CheckAndRecord(ctx, analyst, "t", gs, 5, t0); err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		near := rng(uint64(1000*i), uint64(1000*i+99))
		if err := s.Check(ctx, analyst, "t", groups(near), 5, t0); !errors.Is(err, ErrDifference) {
			t.Errorf("group %d forgotten: err = %v", i, err)
		}
	}
}

// TestCheckMatchesBruteForce compares the prefiltered check with a direct
// |A Δ B| over every pair, on random overlapping sets.
func TestCheckMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(14, 1))
	ctx := context.Background()
	var refusals, passes int
	for trial := 0; trial < 150; trial++ {
		s, _ := openTemp(t, Options{})
		k := 1 + r.IntN(8)
		universe := uint64(20 + r.IntN(200))
		var recorded []*roaring64.Bitmap
		randSet := func() *roaring64.Bitmap {
			b := roaring64.New()
			if len(recorded) > 0 && r.IntN(2) == 0 { // near an earlier set
				b = recorded[r.IntN(len(recorded))].Clone()
				for range r.IntN(2 * k) {
					x := r.Uint64N(universe) * 0x9e3779b97f4a7c15 >> 24 // spread ids
					if b.Contains(x) {
						b.Remove(x)
					} else {
						b.Add(x)
					}
				}
				return b
			}
			for range r.IntN(int(universe)) {
				b.Add(r.Uint64N(universe) * 0x9e3779b97f4a7c15 >> 24)
			}
			return b
		}
		for range 6 {
			cand := []*roaring64.Bitmap{randSet(), randSet()}
			want := false
			for i, c := range cand {
				others := append(append([]*roaring64.Bitmap{}, recorded...), cand[i+1:]...)
				for _, o := range others {
					d := roaring64.Xor(c, o).GetCardinality()
					want = want || (d >= 1 && d < uint64(k))
				}
			}
			err := s.CheckAndRecord(ctx, analyst, "t", cand, k, t0)
			if err != nil && !errors.Is(err, ErrDifference) {
				t.Fatal(err)
			}
			if got := err != nil; got != want {
				t.Fatalf("trial %d k %d: refused = %v, brute force says %v", trial, k, got, want)
			}
			if err == nil {
				recorded = append(recorded, cand...)
				passes++
			} else {
				refusals++
			}
		}
	}
	if refusals < 50 || passes < 50 {
		t.Fatalf("weak test: %d refusals, %d passes", refusals, passes)
	}
}

// TestConcurrentNearExportsOnePasses: many goroutines export sets that
// pairwise differ by 2 units; exactly one may pass.
func TestConcurrentNearExportsOnePasses(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	base := rng(1, 1001)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CheckAndRecord(ctx, analyst, "t", groups(with(base, []uint64{5000 + uint64(i)}, nil)), 5, t0)
		})
	}
	wg.Wait()
	passed := 0
	for i, err := range errs {
		switch {
		case err == nil:
			passed++
		case !errors.Is(err, ErrDifference):
			t.Errorf("export %d: %v", i, err)
		}
	}
	if passed != 1 {
		t.Fatalf("%d near-identical exports passed, want 1", passed)
	}
}

func TestDifferenceRejectsBadInput(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	tests := []struct {
		name, analyst, scope string
		groups               []*roaring64.Bitmap
		want                 string
	}{
		{"nil group", analyst, "t", groups(rng(1, 5), nil), `group 1 of scope "t" is a nil bitmap`},
		{"no analyst", "", "t", groups(rng(1, 5)), "analyst must not be empty"},
		{"no scope", analyst, "", groups(rng(1, 5)), "scope must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CheckAndRecord(ctx, tc.analyst, tc.scope, tc.groups, 5, t0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.CheckAndRecord(cctx, analyst, "t", groups(rng(1, 5)), 5, t0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
}
