package agent

import (
	"testing"
	"time"
)

func TestRateCounterCountsWithinTheWindow(t *testing.T) {
	t.Parallel()
	var r rateCounter
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		analyst string
		at      time.Duration
		want    int64
	}{
		{"alice", 0, 0},
		{"alice", time.Minute, 1},
		{"bob", time.Minute, 0},
		{"alice", 30 * time.Minute, 2},
		{"alice", 60*time.Minute + 30*time.Second, 2}, // the first one has left the window
		{"alice", 200 * time.Minute, 0},
	}
	for i, s := range steps {
		if got := r.next(s.analyst, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at +%s): recent = %d, want %d", i, s.analyst, s.at, got, s.want)
		}
	}
}
