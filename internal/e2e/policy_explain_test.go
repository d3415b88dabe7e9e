package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type policyExplainAnswer struct {
	Sites []struct {
		Site           string   `json:"site"`
		Allow          bool     `json:"allow"`
		Reasons        []string `json:"reasons"`
		BundleRevision string   `json:"bundle_revision"`
		EngineSQL      string   `json:"engine_sql"`
		Error          string   `json:"error"`
	} `json:"sites"`
}

func (f *federation) policyExplain(sql string) policyExplainAnswer {
	f.t.Helper()
	body, _ := json.Marshal(map[string]string{"sql": sql, "purpose": "e2e test"})
	req, _ := http.NewRequest(http.MethodPost, f.url+"/v1/policy/explain", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("policy explain %q: %v", sql, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a policyExplainAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &a) != nil {
		f.t.Fatalf("policy explain %q: HTTP %d: %s", sql, resp.StatusCode, raw)
	}
	return a
}

// TestPolicyExplainMatchesTheRealQuery asks every site, through the
// coordinator, what its policy would decide, then runs the query: the sites
// that explained a denial are the ones that deny it, for the same reasons.
func TestPolicyExplainMatchesTheRealQuery(t *testing.T) {
	t.Parallel()
	strict := defaultBundleWith(t, 1)
	if err := os.WriteFile(filepath.Join(strict, "data.json"), []byte(`{"fedmesh": {"min_group_size": 1, "denied_columns": ["amount"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(strict, ".manifest"), []byte(`{"revision": "strict-b", "roots": ["fedmesh"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fed := startFederation(t, fedOptions{minGroupSize: 1, bundles: map[string]string{"b": strict}})

	for _, sql := range []string{
		"SELECT region, COUNT(*) FROM sales GROUP BY region",
		"SELECT region, SUM(amount) FROM sales GROUP BY region",
	} {
		ex := fed.policyExplain(sql)
		if len(ex.Sites) != 3 {
			t.Fatalf("%q: explained %d sites, want 3: %+v", sql, len(ex.Sites), ex)
		}
		var deniedBy string
		var reasons []string
		for _, s := range ex.Sites {
			if s.Error != "" {
				t.Fatalf("%q: site %s: %s", sql, s.Site, s.Error)
			}
			if !s.Allow && deniedBy == "" {
				deniedBy, reasons = s.Site, s.Reasons
			}
			if s.Allow && s.EngineSQL == "" {
				t.Errorf("%q: site %s allowed without showing its SQL", sql, s.Site)
			}
		}
		got := fed.query(sql)
		switch {
		case deniedBy == "" && got.Status != http.StatusOK:
			t.Errorf("%q: every site explained allow, but the query failed: %+v", sql, got.Error)
		case deniedBy != "" && (got.Error == nil || got.Error.Code != "policy_denied" || got.Error.Site != deniedBy):
			t.Errorf("%q: site %s explained a denial, but the query answered %d %+v", sql, deniedBy, got.Status, got.Error)
		case deniedBy != "":
			if diff := cmp.Diff(reasons, got.Error.Reasons); diff != "" {
				t.Errorf("%q: reasons (-explain +query):\n%s", sql, diff)
			}
		}
		if sql == "SELECT region, SUM(amount) FROM sales GROUP BY region" && deniedBy != "b" {
			t.Errorf("%q: want site b to deny (amount is denied there), explain said %q", sql, deniedBy)
		}
	}
}

// TestPolicyExplainAsksTheSitesARunWould: a site the coordinator knows
// lacks the query's table takes no part in a run, so a policy dry run does
// not ask it either.
func TestPolicyExplainAsksTheSitesARunWould(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{coordTables: map[string][]string{"c": {"sales"}}})
	const q = "SELECT segment, COUNT(*) AS n FROM customers GROUP BY segment"
	run := fed.query(q)
	if run.Status != 200 {
		t.Fatalf("HTTP %d: %+v", run.Status, run.Error)
	}
	var ran []string
	for _, s := range run.Sites {
		if s.Status == "ok" {
			ran = append(ran, s.Site)
		}
	}
	var asked []string
	for _, s := range fed.policyExplain(q).Sites {
		asked = append(asked, s.Site)
	}
	if diff := cmp.Diff([]string{"a", "b"}, ran); diff != "" {
		t.Fatalf("sites that ran (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ran, asked); diff != "" {
		t.Errorf("policy explain asked other sites than the run used (-run +explain):\n%s", diff)
	}
}
