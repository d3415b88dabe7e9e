package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Report is one run of the harness: what ran, on what, and what it measured.
type Report struct {
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	GoVersion  string    `json:"go_version"`
	CPUs       int       `json:"cpus"`
	LoadBefore string    `json:"load_average_before"`
	LoadAfter  string    `json:"load_average_after"`
	Options    Options   `json:"options"`
	Benchmarks []*Bench  `json:"benchmarks"`
}

// Bench is one benchmark's outcome.
type Bench struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Target string   `json:"target"`
	Status string   `json:"status"` // ok, partial, blocked, failed
	Error  string   `json:"error,omitempty"`
	Setup  []string `json:"setup,omitempty"`
	// Columns and Rows form the result table, as printed.
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	// Tables are further tables, printed after the first.
	Tables []Table `json:"tables,omitempty"`
	// Data holds the figures in machine-readable form.
	Data  map[string]any `json:"data,omitempty"`
	Notes []string       `json:"notes,omitempty"`
	Load  string         `json:"load_average"`
	Secs  float64        `json:"seconds"`
	// FromRun is set on a benchmark kept from an earlier run's results
	// file (see KeepPrevious): when that run started.
	FromRun *time.Time `json:"from_run,omitempty"`
}

// KeepPrevious adds to r, in run order, the benchmarks of the results file
// path (an earlier run) that r did not run, marked with that run's start,
// so that running one benchmark does not drop the others' figures. A
// missing file keeps nothing.
func (r *Report) KeepPrevious(path string) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("previous results: %w", err)
	}
	var prev Report
	if err := json.Unmarshal(raw, &prev); err != nil {
		return fmt.Errorf("previous results %s: %w", path, err)
	}
	ran := map[string]bool{}
	for _, b := range r.Benchmarks {
		ran[b.ID] = true
	}
	for _, b := range prev.Benchmarks {
		if ran[b.ID] {
			continue
		}
		if b.FromRun == nil {
			started := prev.Started
			b.FromRun = &started
		}
		r.Benchmarks = append(r.Benchmarks, b)
	}
	order := map[string]int{}
	for i, id := range IDs() {
		order[id] = i
	}
	slices.SortStableFunc(r.Benchmarks, func(a, b *Bench) int { return order[a.ID] - order[b.ID] })
	return nil
}

// Table is a titled result table.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

func (b *Bench) row(cells ...string) { b.Rows = append(b.Rows, cells) }

func (b *Bench) note(format string, args ...any) {
	b.Notes = append(b.Notes, fmt.Sprintf(format, args...))
}

func (b *Bench) set(key string, v any) {
	if b.Data == nil {
		b.Data = map[string]any{}
	}
	b.Data[key] = v
}

// loadAverage returns /proc/loadavg's three averages, or "" off Linux.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// WriteFiles writes the report as name.json and name.md into dir.
func (r *Report) WriteFiles(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var md strings.Builder
	r.WriteMarkdown(&md)
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteMarkdown renders the report as markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "# fedmesh benchmarks\n\n")
	fmt.Fprintf(w, "Run %s → %s on %d CPUs (%s); load average before %s, after %s.\n\n",
		r.Started.UTC().Format(time.RFC3339), r.Finished.UTC().Format("15:04:05Z"), r.CPUs, r.GoVersion, r.LoadBefore, r.LoadAfter)
	for _, b := range r.Benchmarks {
		fmt.Fprintf(w, "## %s — %s\n\n", b.ID, b.Title)
		if b.FromRun != nil {
			fmt.Fprintf(w, "From the run of %s (not rerun this time).\n\n", b.FromRun.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, "Target: %s. Status: **%s**", b.Target, b.Status)
		if b.Load != "" {
			fmt.Fprintf(w, "; load average at end %s; %.0f s", b.Load, b.Secs)
		}
		fmt.Fprintln(w, ".")
		if b.Error != "" {
			fmt.Fprintf(w, "\nError: %s\n", b.Error)
		}
		for _, s := range b.Setup {
			fmt.Fprintf(w, "\n- %s", s)
		}
		if len(b.Setup) > 0 {
			fmt.Fprintln(w)
		}
		writeTable(w, b.Columns, b.Rows)
		for _, t := range b.Tables {
			fmt.Fprintf(w, "\n%s\n", t.Title)
			writeTable(w, t.Columns, t.Rows)
		}
		for _, n := range b.Notes {
			fmt.Fprintf(w, "\n- %s", n)
		}
		fmt.Fprint(w, "\n\n")
	}
}

func writeTable(w io.Writer, cols []string, rows [][]string) {
	if len(cols) == 0 || len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

func newReport(o Options) *Report {
	return &Report{Started: time.Now(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), LoadBefore: loadAverage(), Options: o}
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
