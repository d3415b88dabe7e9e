package audit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a deterministic Options.Now: each call is one millisecond later.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// logBuffer captures a Log's slog output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testOptions(logs *logBuffer) Options {
	return Options{
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Now:       newClock().Now,
		Component: ComponentSiteAgent,
		Site:      "site-a",
	}
}

func openTest(t *testing.T, path string, logs *logBuffer) *Log {
	t.Helper()
	l, err := Open(path, testOptions(logs))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return l
}

// sample is a realistic site-agent record; i makes each one distinct.
func sample(i int) Record {
	return Record{
		Event:    EventDecision,
		QueryID:  fmt.Sprintf("q-%d", i),
		Analyst:  "alice@example.org",
		Roles:    []string{"epidemiologist"},
		Purpose:  "flu surveillance",
		Peer:     "spiffe://fedmesh.test/coordinator",
		Decision: DecisionAllow,
		Reasons:  []string{"purpose allowed"},
		Rows:     int64(10 * i),
		Details:  map[string]any{"i": i},
	}
}

// writeLog creates a log at dir/audit.log holding n sample records.
func writeLog(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "audit.log")
	l := openTest(t, path, &logBuffer{})
	for i := 1; i <= n; i++ {
		if _, _, err := l.Append(context.Background(), sample(i)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

// readLines returns the file's lines, each with its newline.
func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, path string) *Report {
	t.Helper()
	r, err := VerifyFile(path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	return r
}
