package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRegoUnitTests runs the default bundle's policy_test.rego (what
// `opa test bundles/default` runs), so a failing Rego test fails go test.
func TestRegoUnitTests(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	modules, store, err := tester.LoadWithRegoVersion([]string{"bundles/default"}, nil, ast.RegoV1)
	if err != nil {
		t.Fatalf("load bundles/default for opa test: %v", err)
	}
	ch, err := tester.NewRunner().
		SetStore(store).
		SetDefaultRegoVersion(ast.RegoV1).
		RaiseBuiltinErrors(true).
		SetTimeout(30*time.Second).
		SetModules(modules).
		RunTests(ctx, nil)
	if err != nil {
		t.Fatalf("run rego tests: %v", err)
	}
	ran := 0
	for r := range ch {
		ran++
		switch {
		case r.Error != nil:
			t.Errorf("%s.%s (%s): error: %v", r.Package, r.Name, r.Location, r.Error)
		case r.Fail:
			t.Errorf("%s.%s (%s): failed", r.Package, r.Name, r.Location)
		case r.Skip:
			t.Logf("%s.%s: skipped", r.Package, r.Name)
		}
	}
	// Guard against the runner silently finding no tests (wrong path, wrong
	// package name, tests filtered out).
	if want := countTestRules(t, modules); ran != want || ran == 0 {
		t.Errorf("ran %d rego tests, want %d (and more than 0)", ran, want)
	}
}

func countTestRules(t *testing.T, modules map[string]*ast.Module) int {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range modules {
		for _, r := range m.Rules {
			name := r.Head.Ref().String()
			if strings.HasPrefix(name, tester.TestPrefix) {
				seen[m.Package.Path.String()+"."+name] = true
			}
		}
	}
	return len(seen)
}
