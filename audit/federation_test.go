package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// federation writes a coordinator log and two site logs for three queries,
// the coordinator keeping the head each site sent with its export.
func federation(t *testing.T, dir string) (paths []string, keys Keyring) {
	t.Helper()
	keys = Keyring{}
	sites := map[string]*Log{}
	for _, name := range []string{"a", "b"} {
		s := newTestSigner(t)
		keys.Add(s.Public())
		l, err := Open(filepath.Join(dir, "site-"+name+".log"), Options{Component: ComponentSiteAgent, Site: name, Signer: s, Now: newClock().Now})
		if err != nil {
			t.Fatal(err)
		}
		sites[name] = l
	}
	cs := newTestSigner(t)
	keys.Add(cs.Public())
	coord, err := Open(filepath.Join(dir, "coordinator.log"), Options{Component: ComponentCoordinator, Signer: cs, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for q := 1; q <= 3; q++ {
		qid := fmt.Sprintf("q-%d", q)
		rec := Record{Event: EventQuery, QueryID: qid, Analyst: "alice", SQL: "SELECT 1", Decision: DecisionAllow}
		for _, name := range []string{"a", "b"} {
			l := sites[name]
			r, h, err := l.Append(ctx, Record{Event: EventExport, QueryID: qid, Analyst: "alice", Decision: DecisionAllow})
			if err != nil {
				t.Fatal(err)
			}
			head, err := l.Sign(r.Seq, h)
			if err != nil {
				t.Fatal(err)
			}
			rec.Sites = append(rec.Sites, SiteOutcome{Site: name, Status: "ok", Head: &head})
		}
		if _, _, err := coord.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*Log{sites["a"], sites["b"], coord} {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return []string{filepath.Join(dir, "coordinator.log"), filepath.Join(dir, "site-a.log"), filepath.Join(dir, "site-b.log")}, keys
}

func TestVerifyFederationCrossChecksSites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(t *testing.T, siteA string)
		want   []Problem // in site a's report
	}{
		{name: "untouched", mutate: func(*testing.T, string) {}},
		{
			// Site a drops its newest export and the head after it: its own
			// chain is intact, the coordinator's record is not.
			name: "site log truncated",
			mutate: func(t *testing.T, p string) {
				ls := readLines(t, p)
				writeLines(t, p, ls[:2])
			},
			want: []Problem{{Line: 2, Seq: 3, Kind: ProblemTruncated}},
		},
		{
			name: "site log rewritten and re-hashed, heads removed",
			mutate: func(t *testing.T, p string) {
				ls := readLines(t, p)[:3]
				ls[1] = replaceIn(ls[1], `"analyst":"alice"`, `"analyst":"bob"`)
				writeLines(t, p, rechain(t, ls))
			},
			want: []Problem{{Line: 2, Seq: 2, Kind: ProblemHead}, {Line: 3, Seq: 3, Kind: ProblemHead}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			paths, keys := federation(t, t.TempDir())
			tt.mutate(t, paths[1])
			fr, err := VerifyFederation(paths, keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(fr.Logs) != 3 {
				t.Fatalf("want 3 logs, got %d", len(fr.Logs))
			}
			var siteA *Report
			for _, r := range fr.Logs {
				if strings.HasPrefix(r.Path, "site a ") {
					siteA = r
				} else if !r.OK() {
					t.Errorf("%s: unexpected problems %v", r.Path, r.Problems)
				}
			}
			want := append([]Problem(nil), tt.want...)
			for i := range want {
				want[i].File = paths[1] // problems name the site's file
			}
			if diff := cmp.Diff(want, siteA.Problems, cmpopts.IgnoreFields(Problem{}, "Detail"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("site a problems (-want +got):\n%s\nfull: %v", diff, siteA.Problems)
			}
			for _, p := range siteA.Problems {
				if !strings.Contains(p.Detail, "coordinator.log:") {
					t.Errorf("problem does not name the coordinator's record: %s", p.Detail)
				}
			}
		})
	}
}

// TestVerifyFederationReportsOrphanExports: an export a site made for a
// query no coordinator log records (a site asked directly with the
// coordinator's certificate) fails the federation's verification, naming
// the site, the seq and the query id; a mere decision does not.
func TestVerifyFederationReportsOrphanExports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths, keys := federation(t, dir)
	l, err := Open(paths[1], Options{Component: ComponentSiteAgent, Site: "a", Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	orphan, _, err := l.Append(ctx, Record{Event: EventExport, QueryID: "direct-1", Analyst: "mallory", Decision: DecisionAllow})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(ctx, Record{Event: EventDecision, QueryID: "direct-2", Analyst: "mallory", Decision: DecisionDeny}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	fr, err := VerifyFederation(paths, keys)
	if err != nil {
		t.Fatal(err)
	}
	if fr.OK() {
		t.Fatal("a federation with an orphan export verifies clean")
	}
	var got []Problem
	for _, r := range fr.Logs {
		got = append(got, r.Problems...)
	}
	want := []Problem{{File: paths[1], Seq: orphan.Seq, Kind: ProblemOrphan}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Problem{}, "Line", "Detail")); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
	if d := got[0].Detail; !strings.Contains(d, "site a") || !strings.Contains(d, `"direct-1"`) {
		t.Errorf("detail %q does not name the site and the query", d)
	}

	// Without the coordinator's log nothing can be matched: a note says so.
	fr, err = VerifyFederation(paths[1:], keys)
	if err != nil {
		t.Fatal(err)
	}
	if !fr.OK() || !strings.Contains(strings.Join(fr.Notes, "\n"), "no coordinator log was given") {
		t.Errorf("site logs alone: ok=%v notes=%v, want ok with a note", fr.OK(), fr.Notes)
	}
}
