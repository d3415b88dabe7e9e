package coordinator

import (
	"net/http"
	"testing"
	"time"
)

func TestQuotaConcurrency(t *testing.T) {
	t.Parallel()
	k := newQuotaKeeper(Quotas{MaxConcurrentPerAnalyst: 2}, nil)
	r1, e1 := k.admit("alice")
	r2, e2 := k.admit("alice")
	if e1 != nil || e2 != nil {
		t.Fatalf("first two queries refused: %v, %v", e1, e2)
	}
	_, e3 := k.admit("alice")
	if e3 == nil || e3.Code != CodeQuotaExceeded || e3.HTTPStatus != http.StatusTooManyRequests || e3.RetryAfter < 1 {
		t.Fatalf("third concurrent query: %+v, want 429 quota_exceeded with a retry-after", e3)
	}
	// Another analyst is not held back by alice's quota.
	rb, eb := k.admit("bob")
	if eb != nil {
		t.Fatalf("bob refused: %v", eb)
	}
	rb()
	r1()
	r1() // a second release must not free a second place
	r4, e4 := k.admit("alice")
	if e4 != nil {
		t.Fatalf("after one finished: %v", e4)
	}
	if _, e5 := k.admit("alice"); e5 == nil {
		t.Fatal("a double release freed a place")
	}
	r2()
	r4()
}

func TestQuotaRate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	k := newQuotaKeeper(Quotas{MaxQueriesPerMinute: 3}, func() time.Time { return now })
	for i := range 3 {
		r, err := k.admit("alice")
		if err != nil {
			t.Fatalf("query %d refused: %v", i, err)
		}
		r()
		now = now.Add(10 * time.Second)
	}
	// 12:00:30: the three started at :00, :10, :20.
	_, err := k.admit("alice")
	if err == nil || err.Code != CodeQuotaExceeded || err.RetryAfter != 30 {
		t.Fatalf("fourth query in a minute: %+v, want quota_exceeded, retry after 30s (when the :00 query leaves the window)", err)
	}
	// The refusal was not counted: at 12:01:00 one place is free again.
	now = now.Add(30 * time.Second)
	r, err := k.admit("alice")
	if err != nil {
		t.Fatalf("after the window moved: %v", err)
	}
	r()
	if _, err := k.admit("alice"); err == nil {
		t.Fatal("a refused query was not counted, so only one place freed; the second must be refused")
	}
	if r, err := k.admit("bob"); err != nil {
		t.Fatalf("bob has his own quota: %v", err)
	} else {
		r()
	}
}

func TestPartialAnswersAllow(t *testing.T) {
	t.Parallel()
	p := PartialAnswers{Roles: []string{"ops"}, Purposes: []string{"dashboard"}}
	tests := []struct {
		name    string
		roles   []string
		purpose string
		want    bool
	}{
		{"role and purpose", []string{"analyst", "ops"}, "dashboard", true},
		{"other purpose", []string{"ops"}, "research", false},
		{"other role", []string{"analyst"}, "dashboard", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.allows(Analyst{ID: "x", Roles: tt.roles}, tt.purpose); got != tt.want {
				t.Errorf("allows = %v, want %v", got, tt.want)
			}
		})
	}
	if (PartialAnswers{}).allows(Analyst{Roles: []string{"analyst"}}, "") {
		t.Error("the zero PartialAnswers allows someone; the default must be nobody")
	}
}
