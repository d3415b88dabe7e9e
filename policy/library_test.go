package policy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/internal/testenv"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// stockOPA finds the opa binary scripts/ci/20-opa.sh installs. Without it
// the test is skipped under -short and fails otherwise (testenv.Missing).
func stockOPA(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, ok := testenv.Lookup("opa", "FEDMESH_OPA"); ok {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, filepath.Join(testenv.CacheDir(), "bin", "opa"))
	if p, err := exec.LookPath("opa"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return c
		}
	}
	testenv.Missing(t, "opa", fmt.Sprintf("stock opa binary not found (looked at %v)", candidates))
	return ""
}

// TestStockOPA proves the library and the default bundle are plain OPA: the
// stock binary checks, formats and tests them.
func TestStockOPA(t *testing.T) {
	t.Parallel()
	opa := stockOPA(t)
	for _, args := range [][]string{
		{"check", "--strict", "library", "bundles/default"},
		{"fmt", "--fail", "--list", "library", "bundles/default"},
		{"test", "library", "bundles/default"},
	} {
		out, err := exec.Command(opa, args...).CombinedOutput()
		if err != nil {
			t.Errorf("opa %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestOPASignedBundlesVerify signs bundles with the stock `opa sign` and
// `opa build --signing-key` and loads them with signature verification.
func TestOPASignedBundlesVerify(t *testing.T) {
	t.Parallel()
	opa := stockOPA(t)
	key := newTestKey(t)
	keyDir := t.TempDir()
	priv := filepath.Join(keyDir, "private.pem")
	if err := os.WriteFile(priv, []byte(key.private), 0o600); err != nil {
		t.Fatal(err)
	}
	vc, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: key.public}}, true)
	if err != nil {
		t.Fatal(err)
	}

	dir := writeBundleDir(t, "opa-signed-dir")
	// Signed from inside the directory, as README.md says: opa sign names
	// files by the path it is given and writes .signatures.json into its
	// working directory.
	sign := exec.Command(opa, "sign", "--signing-key", priv, "--bundle", ".")
	sign.Dir = dir
	if out, err := sign.CombinedOutput(); err != nil {
		t.Fatalf("opa sign: %v\n%s", err, out)
	}
	if p, err := policy.LoadPath(context.Background(), dir, policy.LoadOptions{Verification: vc}, nil); err != nil {
		t.Errorf("directory signed by opa sign: %v", err)
	} else if p.Revision() != "opa-signed-dir" {
		t.Errorf("revision %q", p.Revision())
	}

	src := writeBundleDir(t, "opa-built")
	tarball := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if out, err := exec.Command(opa, "build", "-b", src, "--signing-key", priv, "-o", tarball).CombinedOutput(); err != nil {
		t.Fatalf("opa build: %v\n%s", err, out)
	}
	if p, err := policy.LoadPath(context.Background(), tarball, policy.LoadOptions{Verification: vc}, nil); err != nil {
		t.Errorf("tarball built and signed by opa build: %v", err)
	} else if p.Revision() != "opa-built" {
		t.Errorf("revision %q", p.Revision())
	}
}

// TestLibraryBundleLoadsInTheAgent assembles a site bundle the way
// README.md tells a data officer to (library policies + entry point +
// settings) and checks the agent's loader, self-check and decoder accept it.
func TestLibraryBundleLoadsInTheAgent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"compose", "aggregate_only", "min_group_size", "columns_by_role", "purpose_binding", "consent_filter", "rate_limit", "minmax_identifying", "isolating_filter"} {
		src := filepath.Join("library", name, name+".rego")
		raw, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name+".rego"), raw)
	}
	writeFile(t, filepath.Join(dir, "main.rego"), []byte("package fedmesh\n\ndecision := data.fedmesh.compose.decision\n"))
	writeFile(t, filepath.Join(dir, ".manifest"), []byte(`{"revision": "clinic-1", "roots": ["fedmesh"]}`))
	writeFile(t, filepath.Join(dir, "data.json"), []byte(`{"fedmesh": {"settings": {
		"min_group_size": {"k": 5},
		"columns_by_role": {"denied": ["customer_id"]},
		"purpose_binding": {"purposes": {"monthly report": {"roles": ["analyst"], "tables": ["sales"]}}},
		"consent_filter": {"tables": {"sales": {"column": "consent", "value": true}}},
		"rate_limit": {"max_queries": 2},
		"minmax_identifying": {"columns": ["amount"]},
		"isolating_filter": {"identifiers": ["order_id"]}
	}}}`))
	p, err := policy.Load(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	tests := []struct {
		name      string
		plan      func() *planner.SubPlan
		recent    int64
		wantAllow bool
		wantRule  string // prefix of the first reason
	}{
		{name: "allowed aggregate", plan: salesPlan, wantAllow: true, wantRule: "fedmesh.allow:"},
		{name: "raw rows", plan: starPlan, wantRule: "fedmesh.aggregate_only:"},
		{name: "rate limit reached", plan: salesPlan, recent: 2, wantRule: "fedmesh.rate_limit:"},
		{name: "max of an identifying column", plan: func() *planner.SubPlan {
			sp := salesPlan()
			sp.Aggs[0].Agg.Func = planner.AggMax
			return sp
		}, wantRule: "fedmesh.minmax_identifying:"},
		{name: "filter isolating one order", plan: func() *planner.SubPlan {
			sp := salesPlan()
			sp.Filter = planner.Call(planner.OpEq, planner.Col("order_id"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 7}))
			return sp
		}, wantRule: "fedmesh.isolating_filter:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := policy.NewInput(tt.plan())
			in.Analyst.RecentQueries = tt.recent
			d, err := p.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if d.Allow != tt.wantAllow || len(d.Reasons) == 0 || !strings.HasPrefix(d.Reasons[0], tt.wantRule) {
				t.Fatalf("allow=%v reasons=%q, want allow=%v and a reason from %s", d.Allow, d.Reasons, tt.wantAllow, tt.wantRule)
			}
			if !tt.wantAllow {
				return
			}
			wantFilter := planner.Call(planner.OpEq, planner.Col("consent"), planner.Lit(planner.Value{Kind: planner.KindBool, Bool: true}))
			want := policy.Obligations{MinGroupSize: 5, DenyColumns: []string{"customer_id"}, RowFilter: wantFilter}
			if diff := cmp.Diff(want, d.Obligations); diff != "" {
				t.Errorf("obligations (-want +got):\n%s", diff)
			}
		})
	}
}
