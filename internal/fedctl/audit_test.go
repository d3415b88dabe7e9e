package fedctl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/audit"
)

// signedFederation writes, with keys made by `fedctl audit keygen`, a
// coordinator log and site a's log for three queries (q-3 by bob), the
// coordinator keeping site a's signed head of each export.
func signedFederation(t *testing.T) (dir, keys string) {
	t.Helper()
	dir = t.TempDir()
	signer := func(name string) *audit.Signer {
		p := filepath.Join(dir, name+".pem")
		if code, out, stderr := run(t, "audit", "keygen", "--out", p); code != exitOK || !strings.Contains(out, "key id") {
			t.Fatalf("keygen: exit %d %s %s", code, out, stderr)
		}
		s, err := audit.LoadSigner(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	site, err := audit.Open(filepath.Join(dir, "site-a.log"), audit.Options{Component: audit.ComponentSiteAgent, Site: "a", Signer: signer("site-a")})
	if err != nil {
		t.Fatal(err)
	}
	coord, err := audit.Open(filepath.Join(dir, "coordinator.log"), audit.Options{Component: audit.ComponentCoordinator, Signer: signer("coordinator")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		who := "alice"
		if i == 3 {
			who = "bob"
		}
		qid := fmt.Sprintf("q-%d", i)
		r, h, err := site.Append(ctx, audit.Record{Event: audit.EventExport, QueryID: qid, Analyst: who, Decision: "allow"})
		if err != nil {
			t.Fatal(err)
		}
		head, err := site.Sign(r.Seq, h)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := coord.Append(ctx, audit.Record{Event: audit.EventQuery, QueryID: qid, Analyst: who, SQL: "SELECT 1", Decision: "allow",
			Sites: []audit.SiteOutcome{{Site: "a", Status: "ok", Head: &head}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := site.Close(); err != nil {
		t.Fatal(err)
	}
	if err := coord.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "site-a.pub.pem") + "," + filepath.Join(dir, "coordinator.pub.pem")
}

func TestAuditVerifyFederation(t *testing.T) {
	t.Parallel()
	dir, keys := signedFederation(t)
	coord, site := filepath.Join(dir, "coordinator.log"), filepath.Join(dir, "site-a.log")
	code, out, stderr := run(t, "audit", "verify", "--federation", "--key", keys, coord, site)
	if code != exitOK || strings.Count(out, "chain intact") != 2 {
		t.Fatalf("intact federation: exit %d\n%s%s", code, out, stderr)
	}

	// Site a cuts its last export (and the head after it); alone its chain is fine.
	b, _ := os.ReadFile(site)
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(site, []byte(lines[0]+lines[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, "audit", "verify", "--key", keys, site); code != exitOK {
		t.Errorf("the truncated log alone should still verify (that is the point of the cross-check): exit %d\n%s", code, out)
	}
	code, out, stderr = run(t, "audit", "verify", "--federation", "--key", keys, coord, site)
	want := site + ":2: truncated: seq 3:" // each problem by file:line
	if code != exitFail || !strings.Contains(out, want) || !strings.Contains(out, "coordinator.log:3") {
		t.Errorf("truncated site log: exit %d\n%s%s", code, out, stderr)
	}

	code, out, _ = run(t, "audit", "verify", "--federation", "--json", "--key", keys, coord, site)
	var rep audit.FederationReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFail || len(rep.Logs) != 2 {
		t.Errorf("--json: exit %d, %v\n%s", code, err, out)
	}
}

// TestAuditVerifyFederationOrphanExport: a site answering a ticket the
// coordinator never recorded (asked directly with its certificate) fails
// `audit verify --federation`, which names the site, the seq and the query.
func TestAuditVerifyFederationOrphanExport(t *testing.T) {
	t.Parallel()
	dir, keys := signedFederation(t)
	coord, site := filepath.Join(dir, "coordinator.log"), filepath.Join(dir, "site-a.log")
	l, err := audit.Open(site, audit.Options{Component: audit.ComponentSiteAgent, Site: "a"})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := l.Append(context.Background(), audit.Record{Event: audit.EventExport, QueryID: "direct-1", Analyst: "mallory", Decision: "allow"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, "audit", "verify", "--key", keys, site); code != exitOK {
		t.Errorf("the site's log alone is intact: exit %d\n%s", code, out)
	}
	code, out, stderr := run(t, "audit", "verify", "--federation", "--key", keys, coord, site)
	want := fmt.Sprintf(`orphan: seq %d: site a exported results for query "direct-1"`, r.Seq)
	if code != exitFail || !strings.Contains(out, want) {
		t.Errorf("orphan export: exit %d, want %q in\n%s%s", code, want, out, stderr)
	}
}

func TestAuditQuery(t *testing.T) {
	t.Parallel()
	dir, _ := signedFederation(t)
	coord, site := filepath.Join(dir, "coordinator.log"), filepath.Join(dir, "site-a.log")

	code, out, stderr := run(t, "audit", "query", "--analyst", "bob", "--format", "json", coord, site)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.ExportV1
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if e.Schema != audit.ExportSchemaV1 || e.Hash == "" || e.Source.Line == 0 {
			t.Errorf("export line lacks schema, hash or source: %s", l)
		}
		got = append(got, e.Component+"/"+e.QueryID+"/"+e.Analyst)
	}
	if want := "coordinator/q-3/bob site-agent/q-3/bob"; strings.Join(sortedCopy(got), " ") != want {
		t.Errorf("bob's records: %v, want %s", got, want)
	}

	code, out, _ = run(t, "audit", "query", "--query-id", "q-2", coord, site)
	if code != exitOK || !strings.HasPrefix(out, "TIME") || strings.Count(out, "q-2") != 2 || !strings.Contains(out, "site a") {
		t.Errorf("--query-id links coordinator and site records: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "audit", "query", "--since", "yesterday", coord); code != exitUsage {
		t.Errorf("bad --since: exit %d, want usage", code)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
