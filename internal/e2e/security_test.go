package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
)

func TestPolicyRefusals(t *testing.T) {
	// Site b's bundle raises an OPA error when it sees a real query (its
	// startup self-check still passes): two values for one complete rule.
	brokenBundle := filepath.Join(t.TempDir(), "broken")
	if err := os.MkdirAll(brokenBundle, 0o700); err != nil {
		t.Fatal(err)
	}
	broken := `package fedmesh

import rego.v1

k = 1 if input.analyst.id == "alice"

k = 2 if input.analyst.id == "alice"

default k := 10

decision := {"allow": true, "reasons": ["broken on purpose"], "obligations": {"min_group_size": k}}
`
	for name, body := range map[string]string{"policy.rego": broken, ".manifest": `{"revision": "broken-1", "roots": ["fedmesh"]}`} {
		if err := os.WriteFile(filepath.Join(brokenBundle, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fed := startFederation(t, fedOptions{})
	brokenFed := startFederation(t, fedOptions{bundles: map[string]string{"b": brokenBundle}})
	tests := []struct {
		name       string
		fed        *federation
		sql        string
		wantSite   string
		wantReason string
	}{
		{name: "raw rows", sql: "SELECT * FROM sales", wantReason: "fedmesh.aggregate_only"},
		{name: "denied column as group key", sql: "SELECT customer_id, COUNT(*) FROM sales GROUP BY customer_id", wantReason: "customer_id"},
		{name: "denied column in filter", sql: "SELECT region, COUNT(*) FROM sales WHERE order_id = 17 GROUP BY region", wantReason: "order_id"},
		{name: "opa error at site b", fed: brokenFed, sql: "SELECT region, COUNT(*) FROM sales GROUP BY region", wantSite: "b", wantReason: "policy evaluation failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fed
			if tt.fed != nil {
				f = tt.fed
			}
			got := f.query(tt.sql)
			if got.Status != 403 || got.Error == nil || got.Error.Code != "policy_denied" {
				t.Fatalf("HTTP %d %+v, want 403 policy_denied", got.Status, got.Error)
			}
			if tt.wantSite != "" && got.Error.Site != tt.wantSite {
				t.Errorf("refusing site = %q, want %q", got.Error.Site, tt.wantSite)
			}
			if got.Error.Site == "" {
				t.Error("refusal names no site")
			}
			if !strings.Contains(strings.Join(got.Error.Reasons, "\n"), tt.wantReason) {
				t.Errorf("reasons %q do not mention %q", got.Error.Reasons, tt.wantReason)
			}
			if len(got.Rows) != 0 {
				t.Errorf("a refused query returned rows: %v", got.Rows)
			}
		})
	}
	t.Run("every log verifies and records the refusals", func(t *testing.T) {
		denied := 0
		for name, path := range brokenFed.audits {
			fed.audits["broken-"+name] = path
		}
		for name, path := range fed.audits {
			rep, err := audit.VerifyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Errorf("%s: %+v", name, rep.Problems)
			}
			for _, r := range readRecords(t, path) {
				if r.Decision == "deny" {
					denied++
				}
			}
		}
		if denied == 0 {
			t.Error("no deny decision was audited")
		}
	})
}

func TestParseErrorsNamePosition(t *testing.T) {
	fed := startFederation(t, fedOptions{})
	got := fed.query("SELECT region, COUNT(*) FROM sales WHERE amount > (SELECT 1) GROUP BY region")
	if got.Status != 400 || got.Error == nil || got.Error.Code != "parse_error" {
		t.Fatalf("HTTP %d %+v, want 400 parse_error", got.Status, got.Error)
	}
	if got.Error.Position != 51 {
		t.Errorf("position = %d, want 51 (the subquery); message %q", got.Error.Position, got.Error.Message)
	}
}

func TestIdentityIsCheckedOnBothEnds(t *testing.T) {
	fx := sharedFixture(t)
	otherTD := t.TempDir()
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "evil.org", OutDir: otherTD, Sites: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	// The evil coordinator SVID names the right path in the wrong trust
	// domain; copy it beside the real certs so the harness can load it
	// with example.org's bundle.
	copyPair(t, otherTD, certs.CoordinatorName, filepath.Join(fx.dir, "certs"), "evil-coordinator")
	wrongB := spiffeid.RequireFromString("spiffe://example.org/site/x")
	tests := []struct {
		name     string
		opts     fedOptions
		wantSite string // "" = any site
		wantMsg  string
		// forged: the caller is not the real coordinator, so no site may
		// have exported anything.
		forged bool
	}{
		{name: "agents refuse a caller that is not the coordinator",
			opts: fedOptions{coordinatorIdentity: certs.SiteFileName("a")}, forged: true},
		{name: "agents refuse a certificate from another trust domain",
			opts: fedOptions{coordinatorIdentity: "evil-coordinator"}, forged: true},
		{name: "coordinator refuses a site with the wrong SPIFFE ID",
			opts: fedOptions{expectSite: map[string]spiffeid.ID{"b": wrongB}}, wantSite: "b", wantMsg: "spiffe://example.org/site/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fed := startFederation(t, tt.opts)
			got := fed.query("SELECT region, COUNT(*) FROM sales GROUP BY region")
			if got.Status == 200 || got.Error == nil {
				t.Fatalf("query succeeded (HTTP %d) with a bad identity", got.Status)
			}
			if got.Error.Code != "site_failed" {
				t.Errorf("code = %q, want site_failed", got.Error.Code)
			}
			if tt.wantSite != "" && got.Error.Site != tt.wantSite {
				t.Errorf("site = %q, want %q (%s)", got.Error.Site, tt.wantSite, got.Error.Message)
			}
			if got.Error.Site == "" {
				t.Errorf("error names no site: %s", got.Error.Message)
			}
			if !strings.Contains(got.Error.Message, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", got.Error.Message, tt.wantMsg)
			}
			if !tt.forged {
				return
			}
			for name, path := range fed.audits {
				for _, r := range readRecords(t, path) {
					if r.Event == audit.EventExport {
						t.Errorf("%s exported data to an unauthenticated peer: %+v", name, r)
					}
				}
			}
		})
	}
}

func copyPair(t *testing.T, fromDir, fromName, toDir, toName string) {
	t.Helper()
	fc, fk := certs.Paths(fromDir, fromName)
	tc, tk := certs.Paths(toDir, toName)
	for _, p := range [][2]string{{fc, tc}, {fk, tk}} {
		b, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
