package archtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const (
	module   = "github.com/fedmesh/fedmesh"
	pgQuery  = "github.com/pganalyze/pg_query_go/v6"
	sqlfront = module + "/planner/sqlfront"
)

// forbidden lists, per package, what it must not depend on, directly or
// through anything it imports (test files aside). The site agent runs
// engine SQL rendered from a SubPlan and must not be able to parse analyst
// SQL: neither it nor the packages it is built from link the SQL front end
// (planner/sqlfront) or the PostgreSQL parser under it.
var forbidden = []struct {
	pkg  string
	deps []string
}{
	{module + "/cmd/site-agent", []string{pgQuery, sqlfront}},
	{module + "/enginebridge", []string{pgQuery, sqlfront}},
	{module + "/policy", []string{pgQuery, sqlfront}},
	{module + "/planner/render", []string{pgQuery, sqlfront}},
	{module + "/planner/merge", []string{pgQuery, sqlfront}},
	{module + "/planner", []string{pgQuery, sqlfront}},
}

// required are edges that must exist, so that a renamed or moved package
// cannot make the rules above pass by matching nothing.
var required = []struct{ pkg, dep string }{
	{module + "/cmd/coordinator", pgQuery},
	{module + "/cmd/coordinator", sqlfront},
}

func TestImportGraph(t *testing.T) {
	t.Parallel()
	for _, r := range forbidden {
		graph, err := deps(r.pkg)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, d := range r.deps {
			if _, ok := graph[d]; ok {
				t.Errorf("%s depends on %s: %s", r.pkg, d, strings.Join(path(graph, r.pkg, d), " → "))
			}
		}
	}
	for _, r := range required {
		graph, err := deps(r.pkg)
		if err != nil {
			t.Error(err)
			continue
		}
		if _, ok := graph[r.dep]; !ok {
			t.Errorf("%s does not depend on %s: the rules of this test name packages that are gone", r.pkg, r.dep)
		}
	}
}

// deps runs go list -deps on pkg and returns every package it depends on
// (pkg included) with that package's direct imports.
func deps(pkg string) (map[string][]string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pkg)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list -deps %s: %w\n%s", pkg, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	if _, ok := graph[pkg]; !ok {
		return nil, fmt.Errorf("go list -deps %s: the package itself is not listed", pkg)
	}
	return graph, nil
}

// path is a shortest import chain from "from" to "to" in graph, to say
// which import to remove.
func path(graph map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, q := range graph[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return []string{from, "…", to}
}
