package audit

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// FederationReport is the result of VerifyFederation: one Report per log
// (a log being all the segments of one component's file), plus findings
// that belong to no single log.
type FederationReport struct {
	Logs  []*Report `json:"logs"`
	Notes []string  `json:"notes,omitempty"`
	// Unchecked lists sites the coordinator holds heads for but whose log
	// was not given.
	Unchecked []string `json:"unchecked,omitempty"`
}

// OK reports whether every log is intact and agrees with the heads others
// hold of it.
func (f *FederationReport) OK() bool {
	for _, r := range f.Logs {
		if !r.OK() {
			return false
		}
	}
	return true
}

// WriteText writes every log's report, then the federation's notes.
func (f *FederationReport) WriteText(w io.Writer) error {
	for _, r := range f.Logs {
		if err := r.WriteText(w); err != nil {
			return err
		}
	}
	for _, n := range f.Notes {
		if _, err := fmt.Fprintf(w, "federation: note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// logGroup is the files of one component's log.
type logGroup struct {
	component, site string
	files           []string
	entries         [][]entry // per file
}

func (g *logGroup) name() string {
	if g.site != "" {
		return "site " + g.site
	}
	return g.component
}

// VerifyFederation verifies a whole federation's logs together. Files are
// grouped by the component and site their records name (so segments of one
// log may be given in any order; they are chained oldest first); every
// site head the coordinator recorded with a query is checked against that
// site's log: the record with that seq must be there with that hash, and a
// head past the end of the site's log is truncation. When a coordinator log
// is given, every export in a site's log must be for a query a coordinator
// record names; one that is not (a site asked directly, with a
// coordinator's certificate) is a ProblemOrphan in that site's report. A
// query still running when the logs were copied can show as one too: its
// coordinator record is written after the sites export. keys may be nil.
func VerifyFederation(paths []string, keys Keyring) (*FederationReport, error) {
	groups := map[string]*logGroup{}
	var order []string
	for _, p := range paths {
		es, err := scanFile(p)
		if err != nil {
			return nil, err
		}
		comp, site := owner(es)
		if comp == "" {
			comp = "unknown:" + p // nothing readable: verify it on its own
		}
		k := comp + "/" + site
		g := groups[k]
		if g == nil {
			g = &logGroup{component: comp, site: site}
			groups[k] = g
			order = append(order, k)
		}
		g.files = append(g.files, p)
		g.entries = append(g.entries, es)
	}

	// What the coordinator saw of each site, and which queries it
	// recorded.
	held := map[string][]ExternalHead{}
	queries := map[string]bool{}
	haveCoordinator := false
	for _, k := range order {
		g := groups[k]
		if g.component != ComponentCoordinator {
			continue
		}
		haveCoordinator = true
		for i, es := range g.entries {
			for _, e := range es {
				if e.event == EventQuery && e.queryID != "" {
					queries[e.queryID] = true
				}
				for _, so := range e.siteHeads {
					held[so.Site] = append(held[so.Site], ExternalHead{
						Head: *so.Head,
						From: fmt.Sprintf("the coordinator's record %s:%d (seq %d, query %s)", g.files[i], e.line, e.seq, e.queryID),
					})
				}
			}
		}
	}

	fr := &FederationReport{}
	seen := map[string]bool{}
	for _, k := range order {
		g := groups[k]
		g.sortSegments()
		var all []entry
		for i, es := range g.entries {
			for _, e := range es {
				e.file = g.files[i] // problems name the file: the report's path names the log
				all = append(all, e)
			}
		}
		opts := VerifyOptions{Keys: keys}
		if g.component == ComponentSiteAgent {
			opts.Heads = held[g.site]
			seen[g.site] = true
		}
		r := verifyEntries(g.files, all, opts)
		r.Path = g.name() + " (" + strings.Join(g.files, " + ") + ")"
		if g.component == ComponentSiteAgent && haveCoordinator {
			r.Problems = append(r.Problems, orphanExports(g.site, all, queries)...)
		}
		fr.Logs = append(fr.Logs, r)
	}
	var missing []string
	for site, hs := range held {
		if !seen[site] {
			missing = append(missing, site)
			fr.Notes = append(fr.Notes, fmt.Sprintf("the coordinator holds %d signed heads of site %s, but no log of site %s was given: not cross-checked", len(hs), site, site))
		}
	}
	if !haveCoordinator {
		fr.Notes = append(fr.Notes, "no coordinator log was given: site exports were not matched to coordinator queries")
	}
	sort.Strings(missing)
	sort.Strings(fr.Notes)
	fr.Unchecked = missing
	return fr, nil
}

// orphanExports reports each export in a site's log whose query id no
// coordinator record names: the site answered a ticket the coordinator
// never recorded sending (someone asked it directly with a coordinator's
// certificate, or the coordinator's record is gone).
func orphanExports(site string, es []entry, queries map[string]bool) []Problem {
	var out []Problem
	for _, e := range es {
		if e.kind != lineOK || e.event != EventExport || queries[e.queryID] {
			continue
		}
		out = append(out, Problem{File: e.file, Line: e.line, Seq: e.seq, Kind: ProblemOrphan,
			Detail: fmt.Sprintf("site %s exported results for query %q, but no coordinator log given records that query", site, e.queryID)})
	}
	return out
}

// owner is the component and site of the first readable record.
func owner(es []entry) (string, string) {
	for _, e := range es {
		if e.hasSeq && e.component != "" && e.component != "audit" {
			return e.component, e.site
		}
	}
	return "", ""
}

// sortSegments orders a log's files by their first seq, oldest first.
func (g *logGroup) sortSegments() {
	first := func(es []entry) uint64 {
		for _, e := range es {
			if e.hasSeq {
				return e.seq
			}
		}
		return ^uint64(0)
	}
	idx := make([]int, len(g.files))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return first(g.entries[idx[a]]) < first(g.entries[idx[b]]) })
	files := make([]string, len(idx))
	entries := make([][]entry, len(idx))
	for i, j := range idx {
		files[i], entries[i] = g.files[j], g.entries[j]
	}
	g.files, g.entries = files, entries
}
