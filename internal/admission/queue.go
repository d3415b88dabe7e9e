package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults for a zero Config field.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxQueue = 64
)

// Reason says why a query was not admitted.
type Reason string

// Reasons.
const (
	ReasonQueueFull Reason = "queue_full" // the queue holds MaxQueue waiters
	ReasonTimeout   Reason = "queue_timeout"
)

// BusyError is returned when a query is not admitted: the queue was full or
// the query waited longer than the queue timeout. RetryAfter is a hint for
// the caller.
type BusyError struct {
	Reason     Reason
	RetryAfter time.Duration
	Slots      int
	MaxQueue   int
	Timeout    time.Duration
}

func (e *BusyError) Error() string {
	switch e.Reason {
	case ReasonQueueFull:
		return fmt.Sprintf("busy: all %d engine slots are taken and %d queries are already waiting; retry after %s", e.Slots, e.MaxQueue, e.RetryAfter)
	default:
		return fmt.Sprintf("busy: no engine slot became free within the queue timeout (%s); retry after %s", e.Timeout, e.RetryAfter)
	}
}

// Config configures a Queue.
type Config struct {
	Slots    int           // queries running at once; must be positive
	MaxQueue int           // waiters at most (0: DefaultMaxQueue; negative: none may wait)
	Timeout  time.Duration // longest wait for a slot (0: DefaultTimeout)
	Clock    Clock         // nil: the real clock
}

// Queue admits queries to a fixed number of slots. Waiters are kept per key
// (an analyst) in arrival order; a freed slot goes to the head waiter of the
// key served least recently, so a key with a long backlog cannot hold back a
// key with one query for more than one slot release. When the queue is
// full, a newcomer whose key has fewer waiters than the longest backlog
// takes the place of that backlog's newest waiter, which is refused.
type Queue struct {
	cfg Config

	mu      sync.Mutex
	running int
	waiting int
	seq     uint64 // grants so far
	keys    map[string]*keyState
}

type keyState struct {
	waiters    []*waiter
	running    int
	lastServed uint64 // seq of this key's last grant; 0: never
	firstWait  uint64 // arrival number of the head waiter, to break ties
}

type waiter struct {
	key     string
	arrival uint64
	ready   chan error // receives nil (admitted) or a *BusyError (evicted)
}

// New returns a queue for cfg.
func New(cfg Config) (*Queue, error) {
	if cfg.Slots <= 0 {
		return nil, errors.New("admission: slots must be positive")
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue
	} else if cfg.MaxQueue < 0 {
		cfg.MaxQueue = 0
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	return &Queue{cfg: cfg, keys: map[string]*keyState{}}, nil
}

// Acquire waits for a slot for key. It returns a release function to call
// exactly once when the work is done, or a *BusyError, or ctx's error
// (wrapped) when ctx ends first.
func (q *Queue) Acquire(ctx context.Context, key string) (release func(), err error) {
	q.mu.Lock()
	ks := q.key(key)
	if q.running < q.cfg.Slots && q.waiting == 0 {
		q.grantLocked(ks)
		q.mu.Unlock()
		return q.releaser(key), nil
	}
	if q.waiting >= q.cfg.MaxQueue && !q.evictLocked(ks) {
		q.forgetLocked(key, ks)
		q.mu.Unlock()
		return nil, q.busy(ReasonQueueFull)
	}
	q.seq++ // arrivals and grants share one counter: any order is total
	w := &waiter{key: key, arrival: q.seq, ready: make(chan error, 1)}
	if len(ks.waiters) == 0 {
		ks.firstWait = w.arrival
	}
	ks.waiters = append(ks.waiters, w)
	q.waiting++
	q.dispatchLocked()
	q.mu.Unlock()

	timeout := q.cfg.Clock.After(q.cfg.Timeout)
	select {
	case err := <-w.ready:
		if err != nil {
			return nil, err
		}
		return q.releaser(key), nil
	case <-timeout:
		if q.cancel(w) {
			return nil, q.busy(ReasonTimeout)
		}
	case <-ctx.Done():
		if q.cancel(w) {
			return nil, fmt.Errorf("waiting for a free engine slot: %w", ctx.Err())
		}
	}
	// Granted (or evicted) while we gave up: honour the outcome.
	if err := <-w.ready; err != nil {
		return nil, err
	}
	return q.releaser(key), nil
}

// Stats reports the queries running and waiting.
func (q *Queue) Stats() (running, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running, q.waiting
}

func (q *Queue) busy(r Reason) *BusyError {
	retry := q.cfg.Timeout.Round(time.Second)
	if retry < time.Second {
		retry = time.Second
	}
	return &BusyError{Reason: r, RetryAfter: retry, Slots: q.cfg.Slots, MaxQueue: q.cfg.MaxQueue, Timeout: q.cfg.Timeout}
}

func (q *Queue) key(k string) *keyState {
	ks := q.keys[k]
	if ks == nil {
		ks = &keyState{}
		q.keys[k] = ks
	}
	return ks
}

// forgetLocked drops a key with nothing running or waiting, so the map stays
// bounded by the keys in use.
func (q *Queue) forgetLocked(k string, ks *keyState) {
	if ks.running == 0 && len(ks.waiters) == 0 {
		delete(q.keys, k)
	}
}

func (q *Queue) grantLocked(ks *keyState) {
	q.seq++
	q.running++
	ks.running++
	ks.lastServed = q.seq
}

func (q *Queue) releaser(key string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.running--
			ks := q.keys[key]
			ks.running--
			q.forgetLocked(key, ks)
			q.dispatchLocked()
		})
	}
}

// dispatchLocked hands free slots to waiters, each to the head waiter of
// the key served least recently (ties: the earlier head waiter).
func (q *Queue) dispatchLocked() {
	for q.running < q.cfg.Slots && q.waiting > 0 {
		var best *keyState
		for _, ks := range q.keys {
			if len(ks.waiters) == 0 {
				continue
			}
			if best == nil || ks.lastServed < best.lastServed ||
				(ks.lastServed == best.lastServed && ks.firstWait < best.firstWait) {
				best = ks
			}
		}
		w := best.waiters[0]
		q.popLocked(best)
		q.grantLocked(best)
		w.ready <- nil
	}
}

func (q *Queue) popLocked(ks *keyState) {
	ks.waiters = ks.waiters[1:]
	q.waiting--
	if len(ks.waiters) > 0 {
		ks.firstWait = ks.waiters[0].arrival
	}
}

// evictLocked makes room for a waiter of ks in a full queue: the newest
// waiter of the longest backlog is refused if that backlog is longer than
// ks's would be. It reports whether room was made.
func (q *Queue) evictLocked(ks *keyState) bool {
	var long *keyState
	for _, o := range q.keys {
		if long == nil || len(o.waiters) > len(long.waiters) {
			long = o
		}
	}
	if long == nil || long == ks || len(long.waiters) <= len(ks.waiters)+1 {
		return false
	}
	w := long.waiters[len(long.waiters)-1]
	long.waiters = long.waiters[:len(long.waiters)-1]
	q.waiting--
	w.ready <- q.busy(ReasonQueueFull)
	return true
}

// cancel removes w from the queue; false if it was already granted or
// evicted (its outcome is then in w.ready).
func (q *Queue) cancel(w *waiter) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	ks := q.keys[w.key]
	if ks == nil {
		return false
	}
	for i, o := range ks.waiters {
		if o == w {
			ks.waiters = append(ks.waiters[:i:i], ks.waiters[i+1:]...)
			q.waiting--
			if i == 0 && len(ks.waiters) > 0 {
				ks.firstWait = ks.waiters[0].arrival
			}
			q.forgetLocked(w.key, ks)
			return true
		}
	}
	return false
}
