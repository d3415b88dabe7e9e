package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

func runB6(ctx context.Context, e *env, b *Bench) error {
	fed, _, done, err := tinyFederation(ctx, e, "b6-")
	if err != nil {
		return err
	}
	defer done()
	clients, dur := e.opts.B6Clients, e.opts.B6Duration
	b.Setup = []string{
		fmt.Sprintf("query: %s over 3 in-process DuckDB sites × %d rows, through the HTTP API", trivialSQL, tinyRows),
		fmt.Sprintf("%d concurrent clients (keep-alive), each sending the next query as soon as the last answered, for %s after a 2 s warm-up; clients, coordinator and agents share the same %d cores", clients, dur, e.cpus()),
		policySetup, auditSetup + " (group commit: concurrent appends share an fsync)",
		"site agents keep their default max_concurrent = 4 engine slots",
	}
	run := func(d time.Duration) ([]time.Duration, int64, error) {
		rctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
		defer cancel()
		stopAt := time.Now().Add(d)
		var mu sync.Mutex
		var lat []time.Duration
		var fails atomic.Int64
		var firstErr error
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(stopAt) && rctx.Err() == nil {
					t0 := time.Now()
					if _, err := fed.httpQuery(rctx, trivialSQL); err != nil {
						fails.Add(1)
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						continue
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if firstErr != nil && len(lat) == 0 {
			return nil, fails.Load(), firstErr
		}
		return lat, fails.Load(), nil
	}
	if _, _, err := run(2 * time.Second); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	var lat []time.Duration
	var fails int64
	var elapsed time.Duration
	measure := func() error {
		t0 := time.Now()
		var err error
		lat, fails, err = run(dur)
		elapsed = time.Since(t0)
		return err
	}
	profPath := filepath.Join(e.outDir, "b6.prof")
	if e.opts.Profile {
		err = profile(profPath, measure)
	} else {
		err = measure()
	}
	if err != nil {
		return err
	}
	s := Summarize(lat)
	qps := float64(len(lat)) / elapsed.Seconds()
	b.Columns = []string{"clients", "duration s", "queries", "failed", "queries/s", "p50 ms", "p99 ms", "max ms"}
	b.row(fmt.Sprint(clients), f1(elapsed.Seconds()), fmt.Sprint(len(lat)), fmt.Sprint(fails), f1(qps), f2(s.P50), f2(s.P99), f1(s.Max))
	b.set("qps", qps)
	b.set("latency", s)
	b.set("failed", fails)
	if qps < 500 {
		b.Status = "partial"
		b.note("target missed: %.0f queries/s < 500", qps)
	} else {
		b.note("target met: %.0f queries/s ≥ 500", qps)
	}
	if e.opts.Profile {
		addCPUTable(b, profPath, fmt.Sprintf("CPU profile of the %s run (whole process: clients, coordinator, 3 agents):", dur), len(lat))
		b.note("CPU profile: %s, top: %s", filepath.Base(profPath), filepath.Base(topPath(profPath)))
	}
	e.progress("B6: %.0f q/s, p50 %.1f ms, p99 %.1f ms, %d failed", qps, s.P50, s.P99, fails)
	return nil
}
