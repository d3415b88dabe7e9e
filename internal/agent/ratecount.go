package agent

import (
	"sync"
	"time"
)

// rateWindow is the window input.analyst.recent_queries counts over.
const rateWindow = time.Hour

// maxRemembered bounds the timestamps kept per analyst: a policy limit above
// it cannot be told apart from "at least this many".
const maxRemembered = 10000

// rateCounter counts each analyst's sub-plans at this site over the last
// rateWindow, for the policy input (OPA's data cannot count). Its zero value
// is ready to use; it is safe for concurrent use. Counts live in memory: a
// restarted agent starts from zero.
type rateCounter struct {
	mu   sync.Mutex
	seen map[string][]time.Time
}

// next records a request by analyst at now and returns how many earlier
// requests by analyst fall within the window.
func (r *rateCounter) next(analyst string, now time.Time) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string][]time.Time{}
	}
	ts := r.seen[analyst]
	cut := 0
	for cut < len(ts) && now.Sub(ts[cut]) >= rateWindow {
		cut++
	}
	ts = ts[cut:]
	n := int64(len(ts))
	if len(ts) >= maxRemembered {
		ts = ts[1:]
	}
	r.seen[analyst] = append(ts, now)
	// Forget analysts with nothing in the window, so the map stays small.
	if len(r.seen) > 1024 {
		for a, t := range r.seen {
			if len(t) == 0 || now.Sub(t[len(t)-1]) >= rateWindow {
				delete(r.seen, a)
			}
		}
	}
	return n
}

// peek returns what next would, without recording a request.
func (r *rateCounter) peek(analyst string, now time.Time) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, t := range r.seen[analyst] {
		if now.Sub(t) < rateWindow {
			n++
		}
	}
	return n
}
