package coordinator

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Quotas bound each analyst's use of the coordinator; a zero field is no
// limit.
type Quotas struct {
	// MaxConcurrentPerAnalyst is the most queries one analyst may have
	// running at once.
	MaxConcurrentPerAnalyst int
	// MaxQueriesPerMinute is the most queries one analyst may start in
	// any sliding minute.
	MaxQueriesPerMinute int
}

// quotaWindow is the window MaxQueriesPerMinute counts over.
const quotaWindow = time.Minute

// quotaKeeper enforces Quotas. Refused queries do not count against the
// rate: an analyst told to wait is not penalised for asking.
type quotaKeeper struct {
	q   Quotas
	now func() time.Time

	mu      sync.Mutex
	running map[string]int
	started map[string][]time.Time // start times within the window, oldest first
}

func newQuotaKeeper(q Quotas, now func() time.Time) *quotaKeeper {
	if now == nil {
		now = time.Now
	}
	return &quotaKeeper{q: q, now: now, running: map[string]int{}, started: map[string][]time.Time{}}
}

// admit counts a query by analyst against the quotas. It returns a release
// function to call when the query ends, or a quota_exceeded QueryError
// (429) with a retry-after hint.
func (k *quotaKeeper) admit(analyst string) (release func(), err *QueryError) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if max := k.q.MaxConcurrentPerAnalyst; max > 0 && k.running[analyst] >= max {
		return nil, &QueryError{HTTPStatus: http.StatusTooManyRequests, Code: CodeQuotaExceeded, RetryAfter: 1,
			Message: fmt.Sprintf("analyst %q already has %d queries running, the most the coordinator allows at once (quotas.max_concurrent_per_analyst); wait for one to finish", analyst, max)}
	}
	if max := k.q.MaxQueriesPerMinute; max > 0 {
		ts := k.started[analyst]
		for len(ts) > 0 && !ts[0].After(now.Add(-quotaWindow)) {
			ts = ts[1:]
		}
		if len(ts) >= max {
			k.started[analyst] = ts
			wait := ts[0].Add(quotaWindow).Sub(now)
			return nil, &QueryError{HTTPStatus: http.StatusTooManyRequests, Code: CodeQuotaExceeded, RetryAfter: retrySeconds(wait),
				Message: fmt.Sprintf("analyst %q started %d queries in the last minute, the most the coordinator allows (quotas.max_queries_per_minute); retry after %ds", analyst, max, retrySeconds(wait))}
		}
		k.started[analyst] = append(ts, now)
	}
	k.running[analyst]++
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.running[analyst]--; k.running[analyst] == 0 {
				delete(k.running, analyst)
			}
		})
	}, nil
}

// admitQuota is admit for the coordinator's analyst, as an error. A
// coordinator built without New has no quotas.
func (c *Coordinator) admitQuota(an Analyst) (func(), error) {
	if c.quotas == nil {
		return func() {}, nil
	}
	release, qe := c.quotas.admit(an.ID)
	if qe != nil {
		return nil, qe
	}
	return release, nil
}
