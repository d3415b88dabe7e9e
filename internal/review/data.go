package review

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/audit"
)

// filter is what the page's filter form sends.
type filter struct {
	Analyst, Decision, Site, QueryID string
	Since, Until                     string // as typed: 2026-11-21 or 2026-11-21T15:04
	since, until                     time.Time
	Problems                         []string // unparseable filter values
}

func parseFilter(q url.Values) filter {
	f := filter{
		Analyst:  strings.TrimSpace(q.Get("analyst")),
		Decision: strings.TrimSpace(q.Get("decision")),
		Site:     strings.TrimSpace(q.Get("site")),
		Since:    strings.TrimSpace(q.Get("since")),
		Until:    strings.TrimSpace(q.Get("until")),
	}
	var err error
	if f.since, err = parseWhen(f.Since); err != nil {
		f.Problems = append(f.Problems, "since: "+err.Error())
	}
	if f.until, err = parseWhen(f.Until); err != nil {
		f.Problems = append(f.Problems, "until: "+err.Error())
	}
	return f
}

// parseWhen accepts RFC 3339, "2006-01-02T15:04" (as an HTML
// datetime-local input sends it) and a bare date, all in UTC.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func (f filter) audit() audit.Filter {
	return audit.Filter{Since: f.since, Until: f.until, Analyst: f.Analyst, Site: f.Site, Decision: f.Decision, QueryID: f.QueryID}
}

// view is everything the pages show.
type view struct {
	Auditor  string
	Filter   filter
	Queries  []queryView
	Logs     []logView
	Notes    []string
	Analysts []string // for the filter form
	Sites    []string
	Total    int // queries before filtering
}

type queryView struct {
	audit.Located
	Link  string
	Sites []siteView
}

// siteView joins the coordinator's outcome for a site with the site's own
// records of the query, when its log is readable here.
type siteView struct {
	audit.SiteOutcome
	Records   []audit.Located // the site's own records for this query
	HeadCheck string          // how the head the site sent compares with its log
}

type logView struct {
	Name      string
	OK        bool
	Records   int
	Heads     int
	SignedSeq uint64
	HeadSeq   uint64
	Problems  []audit.Problem
	More      int
	Notes     []string
}

// load reads the coordinator's log and the configured site logs. It
// re-reads them on each request: the page is for occasional audits, and a
// cache would be one more thing that could disagree with the files.
func (h *Handler) load(f filter) (*view, error) {
	own, err := audit.Segments(h.cfg.AuditPath)
	if err != nil {
		return nil, err
	}
	v := &view{Filter: f}
	af := f.audit()
	analysts, sites := map[string]bool{}, map[string]bool{}
	coord, err := audit.ReadRecords(own, func(l *audit.Located) bool { return l.Event == audit.EventQuery })
	if err != nil {
		return nil, err
	}
	for i := len(coord) - 1; i >= 0; i-- { // newest first
		l := coord[i]
		analysts[l.Analyst] = true
		for _, s := range l.Sites {
			sites[s.Site] = true
		}
		if af.Match(&l.Record) {
			v.Queries = append(v.Queries, queryView{Located: l, Link: queryLink(l.QueryID)})
		}
	}
	v.Total = len(coord)
	v.Analysts, v.Sites = sortedKeys(analysts), sortedKeys(sites)

	// Site logs: their records of the shown queries, and the chain status
	// of every log, cross-checked against the coordinator's record.
	all := slices.Clone(own)
	byQuery := map[string][]audit.Located{}
	ids := map[string]bool{}
	for _, q := range v.Queries {
		ids[q.QueryID] = true
	}
	for _, p := range h.cfg.Logs {
		segs, err := audit.Segments(p)
		if err != nil {
			return nil, err
		}
		if len(segs) == 0 {
			v.Notes = append(v.Notes, "configured log "+p+" does not exist (yet)")
			continue
		}
		all = append(all, segs...)
		recs, err := audit.ReadRecords(segs, func(l *audit.Located) bool { return ids[l.QueryID] && l.Component == audit.ComponentSiteAgent })
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			byQuery[r.QueryID] = append(byQuery[r.QueryID], r)
		}
	}
	fr, err := audit.VerifyFederation(all, h.cfg.Keys)
	if err != nil {
		return nil, err
	}
	if h.cfg.Keys == nil {
		v.Notes = append(v.Notes, "no public keys configured (review.public_keys): signed heads are compared but their signatures are not checked")
	}
	v.Notes = append(v.Notes, fr.Notes...)
	headProblems := map[string]map[uint64]audit.Problem{} // site → seq → problem
	for _, r := range fr.Logs {
		lv := logView{Name: r.Path, OK: r.OK(), Records: r.Records, Heads: r.Heads, SignedSeq: r.SignedSeq, HeadSeq: r.HeadSeq, Notes: r.Notes}
		lv.Problems = r.Problems[:min(len(r.Problems), 10)]
		lv.More = len(r.Problems) - len(lv.Problems)
		v.Logs = append(v.Logs, lv)
		if site, ok := strings.CutPrefix(r.Path, "site "); ok {
			site, _, _ = strings.Cut(site, " ")
			for _, p := range r.Problems {
				if headProblems[site] == nil {
					headProblems[site] = map[uint64]audit.Problem{}
				}
				headProblems[site][p.Seq] = p
			}
		}
	}

	for i := range v.Queries {
		q := &v.Queries[i]
		for _, so := range q.Record.Sites {
			sv := siteView{SiteOutcome: so}
			for _, r := range byQuery[q.QueryID] {
				if r.Site == so.Site {
					sv.Records = append(sv.Records, r)
				}
			}
			switch {
			case so.Head == nil:
				sv.HeadCheck = "no signed head"
			case headProblems[so.Site][so.Head.Seq].Kind != "":
				p := headProblems[so.Site][so.Head.Seq]
				sv.HeadCheck = "MISMATCH: " + string(p.Kind) + ": " + p.Detail
			case len(sv.Records) == 0:
				sv.HeadCheck = "signed head for seq " + uitoa(so.Head.Seq) + "; site log not available here"
			default:
				sv.HeadCheck = "matches the site's log (seq " + uitoa(so.Head.Seq) + ")"
			}
			q.Sites = append(q.Sites, sv)
		}
	}
	return v, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
