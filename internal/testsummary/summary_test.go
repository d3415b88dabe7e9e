package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/run.json is real `go test -json ./...` output of a module with a
// passing test and subtests, two skips, a failing test and a package that
// does not compile.
func TestSummaryOfARun(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.Read(f); err != nil {
		t.Fatal(err)
	}
	if s.Finish() {
		t.Error("Finish reported success for a run with a failed test and a failed build")
	}
	got := out.String()
	if !strings.HasSuffix(got, "\ngo test: 3 passed, 2 failed, 2 skipped\n") {
		t.Errorf("last line wrong; output:\n%s", got)
	}
	for _, want := range []string{
		// the failing test's own output, readable, not JSON
		"    fail_test.go:7: FEDMESH_PG_DSN is not set: run scripts/ci/*-postgres.sh\n--- FAIL: TestFail",
		// the compiler's error for the broken package
		"broken/broken_test.go:5:28: undefined: undefined\n",
		"ok  \texample.com/fx/ok\t",
		"  example.com/fx/ok TestSkip: ok_test.go:10: skipping in -short mode: FEDMESH_PG_DSN is not set\n",
		"  example.com/fx/ok TestPass/b: ok_test.go:7: only on plan9\n",
		"  example.com/fx/broken [build failed]\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; output:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"Action"`) {
		t.Errorf("output contains raw JSON:\n%s", got)
	}
}

// A test binary that dies (a panic, a -timeout) leaves the running test
// without a result: it counts as failed and its output is shown.
func TestSummaryOfACrash(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestOK"}`,
		`{"Action":"pass","Package":"p","Test":"TestOK"}`,
		`{"Action":"run","Package":"p","Test":"TestHang"}`,
		`{"Action":"output","Package":"p","Test":"TestHang","Output":"=== RUN   TestHang\n"}`,
		`{"Action":"output","Package":"p","Output":"panic: test timed out after 1s\n"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t1.0s\n"}`,
		`{"Action":"fail","Package":"p"}`,
		`not json: echoed`,
	}, "\n")
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.Read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if s.Finish() {
		t.Error("Finish reported success for a crashed package")
	}
	if diff := cmp.Diff([]string{"p TestHang (did not finish)"}, s.failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	for _, want := range []string{"=== RUN   TestHang\n", "panic: test timed out after 1s\n", "not json: echoed\n", "go test: 1 passed, 1 failed, 0 skipped\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
