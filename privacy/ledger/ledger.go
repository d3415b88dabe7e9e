package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketAccounts = []byte("accounts") // analyst → account
	bucketCharges  = []byte("charges")  // query ID → chargeRecord (JSON)
)

// Options configures Open.
type Options struct {
	// LockTimeout is how long Open waits while another process has the file
	// open. 0 means 5 s.
	LockTimeout time.Duration
}

// Ledger is a site's durable record of the privacy budget spent per analyst.
// It is safe for concurrent use; bbolt runs one write transaction at a time,
// so Debits are serialised and each sees every earlier one.
type Ledger struct {
	db   *bolt.DB
	path string
}

// Open opens or creates the ledger file at path. Only one process can have
// it open at a time.
func Open(path string, opts Options) (*Ledger, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 5 * time.Second
	}
	// NoSync stays false: every commit is fsync'd before Update returns.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("ledger %s: still locked by another process after %v; only one site agent may use a ledger: %w", path, opts.LockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger %s: open: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAccounts, bucketCharges} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger %s: create buckets: %w", path, err)
	}
	return &Ledger{db: db, path: path}, nil
}

// Close closes the file. Every Debit that returned before Close is on disk.
func (l *Ledger) Close() error {
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("ledger %s: close: %w", l.path, err)
	}
	return nil
}

// Limits is an analyst's budget in ρ (zCDP) per period; 0 means no limit for
// that period. Limits of 0 everywhere mean no limit at all: requiring at least
// one for a protected table is the caller's job (policy validation).
type Limits struct {
	Day, Month, Total float64
}

func (lim Limits) validate() error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{{"day", lim.Day}, {"month", lim.Month}, {"total", lim.Total}} {
		if err := checkRho(p.name+" limit", p.v, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Charge is a debit that was recorded.
type Charge struct {
	QueryID string
	Analyst string
	Table   string
	Rho     float64 // ρ recorded: the asked ρ rounded up to 10⁻¹²
	At      time.Time
	// Remaining is the analyst's budget right after this charge.
	Remaining Remaining
}

// Remaining is an analyst's spending and what is left, per period.
type Remaining struct {
	Analyst           string
	Day, Month, Total PeriodStatus
}

// PeriodStatus is one period's budget.
type PeriodStatus struct {
	Period    Period
	Unlimited bool    // no limit is set for this period; Limit and Left are 0
	Limit     float64 // ρ allowed (rounded down to 10⁻¹²)
	Spent     float64 // ρ spent in the current period
	Left      float64 // Limit - Spent, never negative
	Renews    time.Time
}

// Debit charges rho to analyst for the query queryID (on table, recorded
// for the audit trail) if, and only if, every limit still holds afterwards,
// and returns after the charge is durable (committed and fsync'd). There is
// no way to take a charge back: a query that fails after Debit has still
// spent its budget, as its noise may have been seen.
//
// It returns an error wrapping ErrBudgetExhausted (an [*ExhaustedError]) if a
// limit would be exceeded, ErrDuplicateCharge if queryID was charged before
// (to any analyst), and other errors for invalid arguments, a done ctx or a
// failed write; in each of those cases nothing is charged.
func (l *Ledger) Debit(ctx context.Context, analyst, table, queryID string, rho float64, limits Limits, now time.Time) (Charge, error) {
	if analyst == "" || queryID == "" {
		return Charge{}, fmt.Errorf("ledger %s: debit query %q for analyst %q: analyst and query ID must be set", l.path, queryID, analyst)
	}
	if err := errors.Join(checkRho("charge", rho, false), limits.validate()); err != nil {
		return Charge{}, fmt.Errorf("ledger %s: analyst %q: query %q: %w", l.path, analyst, queryID, err)
	}
	if err := ctx.Err(); err != nil {
		return Charge{}, fmt.Errorf("ledger %s: analyst %q: query %q: not charged: %w", l.path, analyst, queryID, err)
	}
	asked := toUnits(rho, true)
	now = now.UTC()
	var c Charge
	err := l.db.Update(func(tx *bolt.Tx) error {
		charges := tx.Bucket(bucketCharges)
		if prev := charges.Get([]byte(queryID)); prev != nil {
			var r chargeRecord
			if err := json.Unmarshal(prev, &r); err != nil {
				return fmt.Errorf("ledger %s: query %q: stored charge unreadable: %w", l.path, queryID, err)
			}
			return fmt.Errorf("ledger %s: query %q was charged to analyst %q at %s (ρ=%s); a query ID is charged once: %w",
				l.path, queryID, r.Analyst, r.At.Format(time.RFC3339), fmtRho(r.Units), ErrDuplicateCharge)
		}
		a, err := l.load(tx, analyst)
		if err != nil {
			return err
		}
		a = a.at(now)
		if err := l.check(analyst, a, asked, limits); err != nil {
			return err
		}
		a.total += asked
		a.daySpent += asked
		a.monthSpent += asked
		rec, err := json.Marshal(chargeRecord{Analyst: analyst, Table: table, Units: asked, At: now})
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketAccounts).Put([]byte(analyst), a.marshal()); err != nil {
			return fmt.Errorf("ledger %s: analyst %q: write: %w", l.path, analyst, err)
		}
		if err := charges.Put([]byte(queryID), rec); err != nil {
			return fmt.Errorf("ledger %s: query %q: write: %w", l.path, queryID, err)
		}
		c = Charge{QueryID: queryID, Analyst: analyst, Table: table, Rho: fromUnits(asked), At: now,
			Remaining: status(analyst, a, limits)}
		return nil
	})
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return Charge{}, fmt.Errorf("ledger %s: %w", l.path, ErrClosed)
		}
		return Charge{}, err
	}
	return c, nil
}

// check returns an *ExhaustedError if charging asked would exceed a limit.
func (l *Ledger) check(analyst string, a account, asked uint64, lim Limits) error {
	// Ordered by how late the period renews: the first failure is reported.
	for _, p := range []struct {
		period Period
		limit  float64
		spent  uint64
		key    int64
	}{
		{PeriodTotal, lim.Total, a.total, 0},
		{PeriodMonth, lim.Month, a.monthSpent, a.month},
		{PeriodDay, lim.Day, a.daySpent, a.day},
	} {
		if p.limit == 0 {
			continue
		}
		limit := toUnits(p.limit, false)
		if p.spent > limit || asked > limit-p.spent {
			return &ExhaustedError{Ledger: l.path, Analyst: analyst, Period: p.period,
				Limit: fromUnits(limit), Spent: fromUnits(p.spent), Asked: fromUnits(asked),
				Renews: renewal(p.period, p.key)}
		}
	}
	return nil
}

func (l *Ledger) load(tx *bolt.Tx, analyst string) (account, error) {
	v := tx.Bucket(bucketAccounts).Get([]byte(analyst))
	if v == nil {
		return account{}, nil
	}
	a, err := unmarshalAccount(v)
	if err != nil {
		return account{}, fmt.Errorf("ledger %s: analyst %q: %w", l.path, analyst, err)
	}
	return a, nil
}

// Remaining returns what analyst has spent and has left under limits at
// now, for `fedctl budget` and the API.
func (l *Ledger) Remaining(analyst string, limits Limits, now time.Time) (Remaining, error) {
	if err := limits.validate(); err != nil {
		return Remaining{}, fmt.Errorf("ledger %s: analyst %q: %w", l.path, analyst, err)
	}
	var r Remaining
	err := l.db.View(func(tx *bolt.Tx) error {
		a, err := l.load(tx, analyst)
		if err != nil {
			return err
		}
		r = status(analyst, a.at(now), limits)
		return nil
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return Remaining{}, fmt.Errorf("ledger %s: %w", l.path, ErrClosed)
	}
	return r, err
}

func status(analyst string, a account, lim Limits) Remaining {
	one := func(p Period, limit float64, spent uint64, key int64) PeriodStatus {
		s := PeriodStatus{Period: p, Spent: fromUnits(spent), Renews: renewal(p, key)}
		if limit == 0 {
			s.Unlimited = true
			return s
		}
		lu := toUnits(limit, false)
		s.Limit = fromUnits(lu)
		if spent < lu {
			s.Left = fromUnits(lu - spent)
		}
		return s
	}
	return Remaining{
		Analyst: analyst,
		Day:     one(PeriodDay, lim.Day, a.daySpent, a.day),
		Month:   one(PeriodMonth, lim.Month, a.monthSpent, a.month),
		Total:   one(PeriodTotal, lim.Total, a.total, 0),
	}
}
