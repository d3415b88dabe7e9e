package admission

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock fires timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Duration
	ch chan time.Time
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{at: c.now + d, ch: ch})
	return ch
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at <= c.now {
			t.ch <- time.Time{}
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

type grant struct {
	label   string
	release func()
	err     error
}

// harness starts waiters one at a time, so their arrival order is the
// order of the calls.
type harness struct {
	t     *testing.T
	q     *Queue
	clock *fakeClock
	out   chan grant
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clk := &fakeClock{}
	cfg.Clock = clk
	q, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, q: q, clock: clk, out: make(chan grant, 100)}
}

// hold takes a slot directly; the queue must be free.
func (h *harness) hold(key string) func() {
	h.t.Helper()
	rel, err := h.q.Acquire(context.Background(), key)
	if err != nil {
		h.t.Fatalf("hold %s: %v", key, err)
	}
	return rel
}

// wait starts a waiter and returns once it is queued with its timer set.
func (h *harness) wait(ctx context.Context, key, label string) {
	h.t.Helper()
	_, before := h.q.Stats()
	timers := h.clock.pending()
	go func() {
		rel, err := h.q.Acquire(ctx, key)
		h.out <- grant{label: label, release: rel, err: err}
	}()
	h.until(func() bool {
		_, w := h.q.Stats()
		return w == before+1 && h.clock.pending() == timers+1
	})
}

// until yields until cond holds; it never decides anything by elapsed time.
func (h *harness) until(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// drain releases cur, then records who is admitted next, n times.
func (h *harness) drain(cur func(), n int) []string {
	h.t.Helper()
	var order []string
	for range n {
		cur()
		g := <-h.out
		if g.err != nil {
			h.t.Fatalf("%s: %v", g.label, g.err)
		}
		order = append(order, g.label)
		cur = g.release
	}
	cur()
	return order
}

func TestFairAcrossAnalysts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		queued []string // keys in arrival order; labels are key+index
		want   []string
	}{
		{
			// The heavy analyst already holds the slot and queued five
			// more; the light analyst's one query comes next, not sixth.
			name:   "one small query behind a backlog",
			queued: []string{"heavy", "heavy", "heavy", "heavy", "heavy", "light"},
			want:   []string{"light0", "heavy0", "heavy1", "heavy2", "heavy3", "heavy4"},
		},
		{
			name:   "three analysts take turns",
			queued: []string{"heavy", "heavy", "heavy", "b", "b", "c", "c"},
			want:   []string{"b0", "c0", "heavy0", "b1", "c1", "heavy1", "heavy2"},
		},
		{
			name:   "alone, in arrival order",
			queued: []string{"heavy", "heavy", "heavy"},
			want:   []string{"heavy0", "heavy1", "heavy2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{Slots: 1, MaxQueue: 100})
			cur := h.hold("heavy")
			seen := map[string]int{}
			for _, k := range tt.queued {
				h.wait(context.Background(), k, k+string(rune('0'+seen[k])))
				seen[k]++
			}
			got := h.drain(cur, len(tt.queued))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("admission order (-want +got):\n%s", d)
			}
			if r, w := h.q.Stats(); r != 0 || w != 0 {
				t.Errorf("after draining: %d running, %d waiting", r, w)
			}
		})
	}
}

// With several slots, a newcomer still takes the first slot that frees.
func TestFairWithSeveralSlots(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 3, MaxQueue: 100})
	rels := []func(){h.hold("heavy"), h.hold("heavy"), h.hold("heavy")}
	for i := range 10 {
		h.wait(context.Background(), "heavy", "heavy"+string(rune('0'+i)))
	}
	h.wait(context.Background(), "light", "light")
	rels[0]()
	if g := <-h.out; g.label != "light" || g.err != nil {
		t.Fatalf("first freed slot went to %s (err %v), want light", g.label, g.err)
	} else {
		g.release()
	}
}

func TestQueueTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 1, MaxQueue: 10, Timeout: 3 * time.Second})
	rel := h.hold("a")
	h.wait(context.Background(), "b", "b")
	h.clock.Advance(2 * time.Second)
	select {
	case g := <-h.out:
		t.Fatalf("admitted or refused before the timeout: %+v", g)
	default:
	}
	h.clock.Advance(time.Second)
	g := <-h.out
	var busy *BusyError
	if !errors.As(g.err, &busy) || busy.Reason != ReasonTimeout {
		t.Fatalf("after the queue timeout: err %v, want a BusyError with reason %s", g.err, ReasonTimeout)
	}
	if busy.RetryAfter != 3*time.Second {
		t.Errorf("retry after %s, want 3s", busy.RetryAfter)
	}
	if _, w := h.q.Stats(); w != 0 {
		t.Errorf("the timed-out waiter is still queued (%d waiting)", w)
	}
	// The slot is still usable: the queue did not leak it.
	rel()
	h.hold("c")()
}

func TestQueueBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 1, MaxQueue: 2})
	rel := h.hold("a")
	h.wait(context.Background(), "a", "a0")
	h.wait(context.Background(), "a", "a1")

	// Full, and the newcomer is the one with the backlog: refused at once.
	if _, err := h.q.Acquire(context.Background(), "a"); !isFull(err) {
		t.Fatalf("third waiter of a: err %v, want queue_full", err)
	}
	// Another analyst takes the place of a's newest waiter, which is refused.
	h.until(func() bool { return h.clock.pending() == 2 })
	go func() {
		r, err := h.q.Acquire(context.Background(), "b")
		h.out <- grant{label: "b", release: r, err: err}
	}()
	g := <-h.out
	if g.label != "a1" || !isFull(g.err) {
		t.Fatalf("got %s err %v, want a1 refused with queue_full", g.label, g.err)
	}
	h.until(func() bool { _, w := h.q.Stats(); return w == 2 })
	// Now a and b hold one waiter each: a third analyst is refused.
	if _, err := h.q.Acquire(context.Background(), "c"); !isFull(err) {
		t.Fatalf("c in a fair full queue: err %v, want queue_full", err)
	}
	if d := cmp.Diff([]string{"b", "a0"}, h.drain(rel, 2)); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 1, MaxQueue: 10})
	rel := h.hold("a")
	ctx, cancel := context.WithCancel(context.Background())
	h.wait(ctx, "b", "b")
	cancel()
	g := <-h.out
	var busy *BusyError
	if !errors.Is(g.err, context.Canceled) || errors.As(g.err, &busy) {
		t.Fatalf("cancelled waiter: err %v, want context.Canceled and not busy", g.err)
	}
	rel()
	rel() // a second release is a no-op, not a second free slot
	r1 := h.hold("x")
	done, stop := context.WithCancel(context.Background())
	stop()
	// The slot is taken, so y must queue and give up with its cancelled
	// context; it is admitted only if the double release freed a phantom
	// slot.
	if _, err := h.q.Acquire(done, "y"); err == nil {
		t.Fatal("a double release freed a second slot")
	}
	r1()
}

func isFull(err error) bool {
	var busy *BusyError
	return errors.As(err, &busy) && busy.Reason == ReasonQueueFull
}
