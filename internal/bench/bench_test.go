package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the in-process benchmarks at tiny sizes and checks that
// each produced a result table and that the files are written. It asserts
// no timing: benchmarks are not tests.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke run of the benchmark harness skipped in -short mode")
	}
	dir := t.TempDir()
	o := Defaults().Small()
	o.OutDir, o.WorkDir = filepath.Join(dir, "results"), filepath.Join(dir, "work")
	o.Only = []string{"B1", "B3", "B5", "B6", "B8"} // B2 needs PostgreSQL, B4 builds site-agent
	o.B1RowsPerSite, o.B3Runs, o.B5Groups = 2000, 10, 5000
	o.B6Duration = 500 * time.Millisecond
	o.Profile = false
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, o, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Benchmarks) != len(o.Only) {
		t.Fatalf("ran %d benchmarks, want %d\n%s", len(r.Benchmarks), len(o.Only), progress.String())
	}
	for _, b := range r.Benchmarks {
		if b.Status == "failed" || b.Status == "blocked" {
			t.Errorf("%s: %s: %s", b.ID, b.Status, b.Error)
		}
		if len(b.Rows) == 0 {
			t.Errorf("%s: no result rows", b.ID)
		}
		for i, row := range b.Rows {
			if len(row) != len(b.Columns) {
				t.Errorf("%s row %d has %d cells for %d columns", b.ID, i, len(row), len(b.Columns))
			}
		}
	}
	// B1's supported queries must return as many rows federated as
	// centralized: nothing is suppressed in the generated data.
	for _, row := range r.Benchmarks[0].Rows {
		if strings.Contains(row[2], "fed") {
			t.Errorf("B1 %s: row counts differ: %s", row[0], row[2])
		}
	}
	if err := r.WriteFiles(o.OutDir, "smoke"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(o.OutDir, "smoke.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## B1", "## B3", "| measure |", "## B6", "## B8", "| together | total | 1 |", "DP overhead on B1's data"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("smoke.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(o.OutDir, "smoke.json")); err != nil {
		t.Error(err)
	}
}

func TestUnknownBenchmark(t *testing.T) {
	o := Defaults()
	o.Only = []string{"B9"}
	o.OutDir, o.WorkDir = t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `unknown benchmark "B9"`) {
		t.Fatalf("Run with -only B9: err = %v, want unknown benchmark", err)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := Summarize(ds)
	if s.N != 100 || s.P50 != 50 || s.P99 != 99 || s.Min != 1 || s.Max != 100 {
		t.Fatalf("Summarize(1..100 ms) = %+v, want n 100, p50 50, p99 99, min 1, max 100", s)
	}
}

// Running some benchmarks keeps the others' figures from the results file,
// marked with the run they come from, in run order.
func TestKeepPrevious(t *testing.T) {
	dir := t.TempDir()
	old := &Report{Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Benchmarks: []*Bench{{ID: "B1", Status: "ok"}, {ID: "B8", Status: "ok", Secs: 1}}}
	if err := old.WriteFiles(dir, "latest"); err != nil {
		t.Fatal(err)
	}
	r := &Report{Started: time.Now(), Benchmarks: []*Bench{{ID: "B8", Status: "partial", Secs: 2}, {ID: "B3", Status: "ok"}}}
	if err := r.KeepPrevious(filepath.Join(dir, "latest.json")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range r.Benchmarks {
		from := ""
		if b.FromRun != nil {
			from = b.FromRun.UTC().Format(time.RFC3339)
		}
		got = append(got, b.ID+" "+b.Status+" "+from)
	}
	want := []string{"B1 ok 2026-01-02T03:04:05Z", "B3 ok ", "B8 partial "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("benchmarks after KeepPrevious = %q, want %q", got, want)
	}
	var md bytes.Buffer
	r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "From the run of 2026-01-02T03:04:05Z") {
		t.Errorf("markdown does not say where B1's figures come from:\n%s", md.String())
	}
	if err := (&Report{}).KeepPrevious(filepath.Join(dir, "missing.json")); err != nil {
		t.Errorf("KeepPrevious of a missing file: %v", err)
	}
}
