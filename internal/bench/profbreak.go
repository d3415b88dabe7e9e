package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// cpuCategory attributes a stack frame to a part of fedmesh. A sample goes
// to the first frame, from the leaf up, that matches a category: a DuckDB
// call made by the agent counts as engine, a TLS write as TLS.
var cpuCategories = []struct{ name, match string }{
	{"audit fsync + write", "Fsync|fedmesh/audit"},
	// _ExternalCode: samples in threads with no Go stack, i.e. DuckDB's
	// own worker threads (the only C code in the process).
	{"engine: DuckDB (cgo)", "duckdb|runtime._ExternalCode"},
	{"engine: rows → Arrow (enginebridge, database/sql)", "fedmesh/enginebridge|database/sql"},
	{"policy: OPA evaluation", "open-policy-agent|fedmesh/policy"},
	{"planner: parse, split, render, merge", "fedmesh/planner|pg_query"},
	{"TLS (crypto)", "crypto/"},
	{"socket I/O syscalls", "internal/poll|net.(*netFD)|net.(*conn)"},
	{"gRPC + HTTP/2", "google.golang.org/grpc|golang.org/x/net/http2"},
	{"Arrow IPC / Flight", "arrow-go"},
	{"HTTP API + JSON", "net/http|encoding/json"},
	{"logging (slog)", "log/slog"},
	{"fedmesh glue (agent, coordinator, flight, certs)", "fedmesh/"},
	{"Go GC", "runtime.gcBgMarkWorker|runtime.gcDrain|runtime.bgsweep|runtime.bgscavenge"},
	{"Go scheduler + runtime", "runtime."},
}

// categorize returns the category of the first frame, from the leaf up,
// that matches a non-runtime category (runtime = false) or a runtime one.
func categorize(frames []string, runtime bool) string {
	for _, f := range frames {
		for _, c := range cpuCategories {
			if strings.HasPrefix(c.match, "runtime.") != runtime {
				continue
			}
			for _, m := range strings.Split(c.match, "|") {
				if strings.Contains(f, m) {
					return c.name
				}
			}
		}
	}
	return ""
}

type cpuShare struct {
	Category string  `json:"category"`
	Seconds  float64 `json:"seconds"`
	Share    float64 `json:"share"`
}

// Sides of a federation that a CPU sample can belong to.
const (
	sideClient = "benchmark's HTTP clients"
	sideSites  = "site agents"
	sideCoord  = "coordinator"
	sideShared = "not attributable (GC, scheduler, shared transport goroutines)"
)

var sideMatches = []struct{ side, match string }{
	{sideClient, "internal/bench.(*federation).httpQuery|net/http.(*Transport)|net/http.(*persistConn)"},
	// OPA's deep stacks are cut before their root, but only sites run it.
	{sideSites, "fedmesh/internal/agent|fedmesh/flight.(*Server)|grpc.(*Server)|transport.(*http2Server)|fedmesh/enginebridge|duckdb|runtime._ExternalCode|open-policy-agent"},
	{sideCoord, "fedmesh/internal/coordinator|fedmesh/flight.(*Client)|grpc.(*ClientConn)|grpc.(*clientStream)|transport.(*http2Client)|net/http.(*conn)|internal/bench.(*federation).goQuery"},
}

// sideOf says which process a sample's stack belongs to, by any frame.
func sideOf(frames []string) string {
	for _, sm := range sideMatches {
		for _, f := range frames {
			for _, m := range strings.Split(sm.match, "|") {
				if strings.Contains(f, m) {
					return sm.side
				}
			}
		}
	}
	return sideShared
}

// cpuBreakdownSides reads a CPU profile's stacks (`go tool pprof -traces`)
// and sums sample time per category and per side.
func cpuBreakdownSides(prof string) ([]cpuShare, []cpuShare, float64, error) {
	out, err := exec.Command("go", "tool", "pprof", "-traces", prof).Output()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("go tool pprof -traces %s: %w", prof, err)
	}
	sums := map[string]time.Duration{}
	sides := map[string]time.Duration{}
	var total time.Duration
	var value time.Duration
	var frames []string
	flush := func() {
		if value == 0 {
			return
		}
		// Runtime categories only when no frame names a part of fedmesh
		// or a library: an allocation counts for the code that allocates.
		cat := "other"
		for pass := range 2 {
			if c := categorize(frames, pass == 1); c != "" {
				cat = c
				break
			}
		}
		sums[cat] += value
		sides[sideOf(frames)] += value
		total += value
		value, frames = 0, frames[:0]
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inTraces := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			inTraces = true
			continue
		}
		if !inTraces || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if !strings.HasPrefix(line, " ") || len(fields) == 0 {
			continue
		}
		if d, err := time.ParseDuration(fields[0]); err == nil && len(fields) >= 2 && value == 0 {
			value = d
			frames = append(frames, fields[1])
			continue
		}
		if strings.HasPrefix(fields[0], "bytes:") || strings.Contains(fields[0], ":") && !strings.Contains(fields[0], ".") {
			continue // a label line
		}
		frames = append(frames, fields[0])
	}
	flush()
	if total == 0 {
		return nil, nil, 0, fmt.Errorf("profile %s has no samples", prof)
	}
	return sortedShares(sums, total), sortedShares(sides, total), total.Seconds(), nil
}

func sortedShares(sums map[string]time.Duration, total time.Duration) []cpuShare {
	var shares []cpuShare
	for c, d := range sums {
		shares = append(shares, cpuShare{Category: c, Seconds: d.Seconds(), Share: float64(d) / float64(total)})
	}
	slices.SortFunc(shares, func(a, b cpuShare) int {
		switch {
		case a.Seconds > b.Seconds:
			return -1
		case a.Seconds < b.Seconds:
			return 1
		}
		return strings.Compare(a.Category, b.Category)
	})
	return shares
}

// addCPUTable adds prof's CPU breakdown to b, per query when queries > 0.
func addCPUTable(b *Bench, prof, title string, queries int) {
	shares, sides, total, err := cpuBreakdownSides(prof)
	if err != nil {
		b.note("CPU breakdown of %s unavailable: %v", prof, err)
		return
	}
	t := Table{Title: title, Columns: []string{"where the CPU went", "share", "CPU ms per query"}}
	for _, s := range shares {
		t.Rows = append(t.Rows, []string{s.Category, fmt.Sprintf("%.1f%%", 100*s.Share), f3(1000 * s.Seconds / float64(max(1, queries)))})
	}
	t.Rows = append(t.Rows, []string{"**total**", "100%", f3(1000 * total / float64(max(1, queries)))})
	b.Tables = append(b.Tables, t)
	st := Table{Title: "The same samples by process (a stack belongs to a side if any frame is that side's code):", Columns: []string{"side", "share", "CPU ms per query"}}
	for _, s := range sides {
		st.Rows = append(st.Rows, []string{s.Category, fmt.Sprintf("%.1f%%", 100*s.Share), f3(1000 * s.Seconds / float64(max(1, queries)))})
	}
	b.Tables = append(b.Tables, st)
	b.set("cpu_breakdown", map[string]any{"profile": prof, "total_seconds": total, "queries": queries, "shares": shares, "sides": sides})
}
