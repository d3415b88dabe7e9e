package guard

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; match them with errors.Is. The typed errors below wrap them.
var (
	// ErrDifference: an export was refused because one of its groups' unit
	// sets differs from a recorded or sibling set by 1..k-1 units.
	ErrDifference = errors.New("difference check refused the export")
	// ErrRateLimited: the analyst used up the query allowance of the window.
	ErrRateLimited = errors.New("query rate limit reached")
	// ErrReplay: the query id was presented before.
	ErrReplay = errors.New("query id was already presented")
	// ErrTicketExpired: the ticket's expiry is not after now.
	ErrTicketExpired = errors.New("ticket expired")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("guard store is closed")
)

// DifferenceError refuses an export. It names the table scope and k, never
// units, group values, which group tripped the check or by how much: the
// refusal itself is the only data-dependent bit it carries.
type DifferenceError struct {
	Scope string // the caller's table-set key
	K     int    // the minimum difference, in units, the export had to keep
}

func (e *DifferenceError) Error() string {
	return fmt.Sprintf("difference check: a group of this export differs from an earlier or sibling group over tables %q by fewer than %d units, so subtracting the answers could reveal them; widen the filter or ask the site's data officer", e.Scope, e.K)
}

// Unwrap returns ErrDifference.
func (e *DifferenceError) Unwrap() error { return ErrDifference }

// RateLimitError refuses a query over the analyst's allowance.
type RateLimitError struct {
	Analyst    string
	Limit      int64
	Window     time.Duration
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limit: analyst %q has used %d queries in %s; retry after %s", e.Analyst, e.Limit, e.Window, e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// ReplayError refuses a ticket whose query id was seen before.
type ReplayError struct {
	QueryID string
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("replay guard: query id %q was already presented to this site; send a new query", e.QueryID)
}

// Unwrap returns ErrReplay.
func (e *ReplayError) Unwrap() error { return ErrReplay }
