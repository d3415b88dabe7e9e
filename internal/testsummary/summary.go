package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json), including the
// build-output and build-fail actions that `go test -json` adds.
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string
	FailedBuild string
}

type testKey struct{ pkg, test string }

// summary accumulates a run and reports it to w.
type summary struct {
	w       io.Writer
	output  map[testKey][]string // per test; test "" is the package's own output
	build   map[string][]string  // build output by import path
	done    map[testKey]bool     // a test that passed, failed or was skipped
	started []testKey            // tests in run order, to find ones that never ended
	passed  int
	failed  []string        // "pkg TestName", or "pkg [build failed]"
	skipped []string        // "pkg TestName: reason"
	pkgFail map[string]bool // packages with at least one failed test
}

func newSummary(w io.Writer) *summary {
	return &summary{
		w:       w,
		output:  map[testKey][]string{},
		build:   map[string][]string{},
		done:    map[testKey]bool{},
		pkgFail: map[string]bool{},
	}
}

// Read consumes go test -json from r; lines that are not JSON are echoed.
func (s *summary) Read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.w, "%s\n", line)
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func (s *summary) add(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
	case "run":
		s.started = append(s.started, k)
	case "output":
		s.output[k] = append(s.output[k], e.Output)
		if e.Test == "" && isPackageResult(e.Output) {
			fmt.Fprint(s.w, e.Output)
		}
	case "pass":
		if e.Test != "" {
			s.done[k] = true
			s.passed++
		}
		delete(s.output, k)
	case "skip":
		if e.Test != "" {
			s.done[k] = true
			s.skipped = append(s.skipped, e.Package+" "+e.Test+": "+skipReason(s.output[k]))
		}
		delete(s.output, k)
	case "fail":
		if e.Test != "" {
			s.done[k] = true
			s.pkgFail[e.Package] = true
			s.failed = append(s.failed, e.Package+" "+e.Test)
			s.show("--- output of failed test "+e.Test+" ("+e.Package+")", s.output[k])
			delete(s.output, k)
			return
		}
		s.packageFailed(e)
	}
}

// packageFailed reports a failed package: its build errors, the tests that
// were still running when it ended, and its own output; it counts as one
// failure when no test of it failed.
func (s *summary) packageFailed(e event) {
	if e.FailedBuild != "" {
		s.show("--- build of "+e.FailedBuild+" failed", s.build[e.FailedBuild])
	}
	for _, k := range s.started {
		if k.pkg == e.Package && !s.done[k] {
			s.done[k] = true
			s.pkgFail[e.Package] = true
			s.failed = append(s.failed, e.Package+" "+k.test+" (did not finish)")
			s.show("--- output of unfinished test "+k.test+" ("+e.Package+")", s.output[k])
		}
	}
	own := testKey{e.Package, ""}
	if lines := packageMessages(s.output[own]); len(lines) > 0 {
		s.show("--- output of package "+e.Package, lines)
	}
	delete(s.output, own)
	if !s.pkgFail[e.Package] {
		what := "[build failed]"
		if e.FailedBuild == "" {
			what = "[failed outside any test]"
		}
		s.failed = append(s.failed, e.Package+" "+what)
	}
}

// packageMessages drops go test's PASS/FAIL/ok lines from a package's own
// output; what remains (a panic, a timeout, TestMain's output) explains a
// failure.
func packageMessages(lines []string) []string {
	var keep []string
	for _, l := range lines {
		if l == "PASS\n" || l == "FAIL\n" || isPackageResult(l) {
			continue
		}
		keep = append(keep, l)
	}
	return keep
}

func (s *summary) show(title string, lines []string) {
	fmt.Fprintln(s.w, title)
	for _, l := range lines {
		fmt.Fprint(s.w, l)
	}
}

// Finish writes the skipped tests, the failed ones and the count line; it
// reports whether everything passed.
func (s *summary) Finish() bool {
	sort.Strings(s.skipped)
	if len(s.skipped) > 0 {
		fmt.Fprintf(s.w, "\nskipped (%d):\n", len(s.skipped))
		for _, t := range s.skipped {
			fmt.Fprintln(s.w, "  "+t)
		}
	}
	if len(s.failed) > 0 {
		fmt.Fprintf(s.w, "\nfailed (%d):\n", len(s.failed))
		for _, t := range s.failed {
			fmt.Fprintln(s.w, "  "+t)
		}
	}
	fmt.Fprintf(s.w, "\ngo test: %d passed, %d failed, %d skipped\n", s.passed, len(s.failed), len(s.skipped))
	return len(s.failed) == 0
}

// isPackageResult reports whether a package-level output line is go test's
// per-package verdict ("ok  \tpkg\t1.2s", "FAIL\tpkg ...", "?   \tpkg\t[no test files]").
func isPackageResult(line string) bool {
	return strings.HasPrefix(line, "ok  \t") || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "?   \t")
}

// skipReason is the message a test passed to t.Skip: its output without
// the === and --- lines, on one line.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}
