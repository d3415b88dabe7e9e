package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var day1 = time.Date(2026, 12, 6, 15, 30, 0, 0, time.UTC)

func openTemp(t *testing.T) (*Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, path
}

func TestDebitRefusesOverAnyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		limits  Limits
		spend   []float64 // accepted first
		ask     float64
		period  Period
		renews  time.Time
		message string
	}{
		{
			name: "day", limits: Limits{Day: 0.5, Month: 2}, spend: []float64{0.25, 0.23}, ask: 0.05,
			period: PeriodDay, renews: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
			message: `analyst "ana": day budget ρ=0.5 spent 0.48, query asks 0.05; renews 2026-12-07T00:00:00Z; wait until then or ask the site's data officer to raise it`,
		},
		{
			name: "month", limits: Limits{Month: 1}, spend: []float64{0.75, 0.25}, ask: 0.001,
			period: PeriodMonth, renews: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
			message: `analyst "ana": month budget ρ=1 spent 1, query asks 0.001; renews 2027-01-01T00:00:00Z; wait until then or ask the site's data officer to raise it`,
		},
		{
			name: "total wins over day", limits: Limits{Day: 0.5, Total: 0.5}, spend: []float64{0.5}, ask: 0.125,
			period:  PeriodTotal,
			message: `analyst "ana": total budget ρ=0.5 spent 0.5, query asks 0.125; the total budget does not renew; ask the site's data officer to raise it`,
		},
		{
			// 3 × float64(0.1) > float64(0.3) in exact arithmetic: refused.
			name: "float sum above limit", limits: Limits{Total: 0.3}, spend: []float64{0.1, 0.1}, ask: 0.1,
			period:  PeriodTotal,
			message: `analyst "ana": total budget ρ=0.3 spent 0.2, query asks 0.1; the total budget does not renew; ask the site's data officer to raise it`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, path := openTemp(t)
			ctx := context.Background()
			for i, rho := range tt.spend {
				if _, err := l.Debit(ctx, "ana", "sales", fmt.Sprint("q", i), rho, tt.limits, day1); err != nil {
					t.Fatalf("debit %d (ρ=%v): %v", i, rho, err)
				}
			}
			before, _ := l.Remaining("ana", tt.limits, day1)
			_, err := l.Debit(ctx, "ana", "sales", "refused", tt.ask, tt.limits, day1)
			if !errors.Is(err, ErrBudgetExhausted) {
				t.Fatalf("err = %v, want ErrBudgetExhausted", err)
			}
			var ee *ExhaustedError
			if !errors.As(err, &ee) {
				t.Fatalf("err %T is not an *ExhaustedError", err)
			}
			if ee.Period != tt.period || !ee.Renews.Equal(tt.renews) {
				t.Errorf("period %s renews %v, want %s renews %v", ee.Period, ee.Renews, tt.period, tt.renews)
			}
			if want := "ledger " + path + ": " + tt.message; err.Error() != want {
				t.Errorf("message:\n got %s\nwant %s", err, want)
			}
			after, _ := l.Remaining("ana", tt.limits, day1)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("refused debit changed the budget (-before +after):\n%s", diff)
			}
			// The refused query ID was not recorded: it may be retried.
			if _, err := l.Debit(ctx, "ana", "sales", "refused", 1e-6, Limits{}, day1); err != nil {
				t.Errorf("retry of refused query ID: %v", err)
			}
		})
	}
}

func TestPeriodsRenewAndClockStepsBack(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t)
	ctx := context.Background()
	lim := Limits{Day: 0.5, Month: 1.25}
	debit := func(id string, rho float64, at time.Time) error {
		_, err := l.Debit(ctx, "ana", "t", id, rho, lim, at)
		return err
	}
	if err := debit("a", 0.5, day1); err != nil {
		t.Fatal(err)
	}
	if err := debit("b", 0.5, day1.Add(time.Hour)); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("same day: %v, want exhausted", err)
	}
	// A clock stepping back a day does not give the day budget back.
	if err := debit("c", 0.5, day1.Add(-24*time.Hour)); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("clock back a day: %v, want exhausted", err)
	}
	next := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if err := debit("d", 0.5, next); err != nil {
		t.Fatalf("next day: %v", err)
	}
	if err := debit("e", 0.5, next.Add(24*time.Hour)); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("month limit: %v, want exhausted", err)
	}
	r, err := l.Remaining("ana", lim, next.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := Remaining{
		Analyst: "ana",
		Day:     PeriodStatus{Period: PeriodDay, Limit: 0.5, Spent: 0, Left: 0.5, Renews: time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)},
		Month:   PeriodStatus{Period: PeriodMonth, Limit: 1.25, Spent: 1, Left: 0.25, Renews: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		Total:   PeriodStatus{Period: PeriodTotal, Unlimited: true, Spent: 1},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Remaining (-want +got):\n%s", diff)
	}
	if err := debit("f", 0.25, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("new month: %v", err)
	}
}

func TestDuplicateQueryIDIsRefused(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t)
	ctx := context.Background()
	if _, err := l.Debit(ctx, "ana", "t", "q1", 0.25, Limits{}, day1); err != nil {
		t.Fatal(err)
	}
	for _, analyst := range []string{"ana", "bob"} {
		_, err := l.Debit(ctx, analyst, "t", "q1", 0.25, Limits{}, day1)
		if !errors.Is(err, ErrDuplicateCharge) {
			t.Fatalf("%s: err = %v, want ErrDuplicateCharge", analyst, err)
		}
		want := "ledger " + path + `: query "q1" was charged to analyst "ana" at 2026-12-06T15:30:00Z (ρ=0.25); a query ID is charged once: query already charged`
		if err.Error() != want {
			t.Errorf("message:\n got %s\nwant %s", err, want)
		}
	}
	r, _ := l.Remaining("ana", Limits{}, day1)
	if r.Total.Spent != 0.25 {
		t.Errorf("spent %v after a replay, want 0.25", r.Total.Spent)
	}
}

func TestDebitRejectsBadArguments(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"no analyst", func() error { _, err := l.Debit(ctx, "", "t", "q", 0.1, Limits{}, day1); return err }},
		{"no query ID", func() error { _, err := l.Debit(ctx, "a", "t", "", 0.1, Limits{}, day1); return err }},
		{"zero ρ", func() error { _, err := l.Debit(ctx, "a", "t", "q", 0, Limits{}, day1); return err }},
		{"negative limit", func() error { _, err := l.Debit(ctx, "a", "t", "q", 0.1, Limits{Day: -1}, day1); return err }},
		{"huge ρ", func() error { _, err := l.Debit(ctx, "a", "t", "q", 2e6, Limits{}, day1); return err }},
		{"cancelled", func() error { _, err := l.Debit(cancelled, "a", "t", "q", 0.1, Limits{}, day1); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if r, _ := l.Remaining("a", Limits{}, day1); r.Total.Spent != 0 {
		t.Errorf("rejected debits spent %v", r.Total.Spent)
	}
}

// TestConcurrentCoordinatorsCannotOverspend races two "coordinators" that
// together ask for 2.5× a shared budget: exactly the budget is spent.
func TestConcurrentCoordinatorsCannotOverspend(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t)
	const rho = 1.0 / 64 // exact in binary: 32 fit in 0.5
	lim := Limits{Total: 0.5}
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				_, err := l.Debit(context.Background(), "ana", "t", fmt.Sprintf("c%d-q%d", c, i), rho, lim, day1)
				switch {
				case err == nil:
					mu.Lock()
					granted++
					mu.Unlock()
				case !errors.Is(err, ErrBudgetExhausted):
					t.Errorf("coordinator %d: %v", c, err)
				}
			}
		}()
	}
	wg.Wait()
	r, err := l.Remaining("ana", lim, day1)
	if err != nil {
		t.Fatal(err)
	}
	if granted != 32 || r.Total.Spent != 0.5 || r.Total.Left != 0 {
		t.Errorf("granted %d, spent %v, left %v; want 32, 0.5, 0", granted, r.Total.Spent, r.Total.Left)
	}
}

func TestCloseAndReopenKeepsCharges(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t)
	c, err := l.Debit(context.Background(), "ana", "sales", "q1", 0.3, Limits{Month: 1}, day1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rho < 0.3 || c.Remaining.Month.Spent != c.Rho || c.Remaining.Month.Left != 0.7 {
		t.Errorf("charge %+v", c)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Remaining("ana", Limits{}, day1); !errors.Is(err, ErrClosed) {
		t.Errorf("Remaining after Close: %v, want ErrClosed", err)
	}
	l2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	r, err := l2.Remaining("ana", Limits{Month: 1}, day1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Month.Spent != c.Rho || r.Total.Spent != c.Rho {
		t.Errorf("after reopen: %+v, want spent %v", r, c.Rho)
	}
	if _, err := l2.Debit(context.Background(), "ana", "sales", "q1", 0.3, Limits{}, day1); !errors.Is(err, ErrDuplicateCharge) {
		t.Errorf("replay after reopen: %v, want ErrDuplicateCharge", err)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	t.Parallel()
	_, path := openTemp(t)
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("second Open of a held ledger succeeded")
	}
	t.Log(err)
}
