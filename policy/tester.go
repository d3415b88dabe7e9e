package policy

import (
	"context"
	"fmt"
	"io"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestSummary counts the outcomes of a Rego test run.
type TestSummary struct {
	Pass, Fail, Error, Skip int
}

// RunTests runs the Rego unit tests (rules named test_*) found in paths with
// OPA's own test runner, as `opa test` does, reporting to w in `opa test`'s
// format. Builtin errors fail the test, as at the site agent. It returns
// an error when the files cannot be loaded or compiled.
func RunTests(ctx context.Context, w io.Writer, verbose bool, paths ...string) (TestSummary, error) {
	modules, store, err := tester.LoadWithRegoVersion(paths, nil, ast.RegoV1)
	if err != nil {
		return TestSummary{}, fmt.Errorf("load policy tests from %v: %w", paths, err)
	}
	ch, err := tester.NewRunner().SetStore(store).RaiseBuiltinErrors(true).
		SetDefaultRegoVersion(ast.RegoV1).SetModules(modules).RunTests(ctx, nil)
	if err != nil {
		return TestSummary{}, fmt.Errorf("run policy tests from %v: %w", paths, err)
	}
	var sum TestSummary
	counted := make(chan *tester.Result)
	done := make(chan error, 1)
	go func() {
		done <- tester.PrettyReporter{Output: w, Verbose: verbose, FailureLine: true}.Report(counted)
	}()
	for r := range ch {
		switch {
		case r.Skip:
			sum.Skip++
		case r.Error != nil:
			sum.Error++
		case r.Fail:
			sum.Fail++
		default:
			sum.Pass++
		}
		counted <- r
	}
	close(counted)
	if err := <-done; err != nil && sum.Fail+sum.Error == 0 {
		return sum, fmt.Errorf("report policy tests: %w", err)
	}
	return sum, nil
}
