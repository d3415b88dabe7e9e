package fedctl

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedmesh/fedmesh/audit"
)

func auditQuery(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit query", stderr)
	since := fs.String("since", "", "only records at or after this time (RFC 3339 or 2006-01-02)")
	until := fs.String("until", "", "only records before this time (RFC 3339 or 2006-01-02)")
	var f audit.Filter
	fs.StringVar(&f.Analyst, "analyst", "", "only this analyst's records")
	fs.StringVar(&f.Site, "site", "", "only records of this site (coordinator records that involve it)")
	fs.StringVar(&f.Decision, "decision", "", "only this decision: allow, deny or error")
	fs.StringVar(&f.QueryID, "query-id", "", "only records of this query, at the coordinator and every site")
	fs.StringVar(&f.Event, "event", "", "only this event (query, decision, export, signed_head, ...)")
	format := fs.String("format", "table", "table, or json: JSON lines in the "+audit.ExportSchemaV1+" schema (audit/SCHEMA.md)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: audit query needs at least one FILE", errUsage)
	}
	var err error
	if f.Since, err = parseTime(*since); err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if f.Until, err = parseTime(*until); err != nil {
		return fmt.Errorf("%w: --until: %v", errUsage, err)
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("%w: --format must be table or json", errUsage)
	}
	var files []string
	for _, p := range fs.Args() {
		segs, err := logFiles(p)
		if err != nil {
			return err
		}
		files = append(files, segs...)
	}
	recs, err := audit.ReadRecords(files, func(l *audit.Located) bool { return f.Match(&l.Record) })
	if err != nil {
		return err
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
	if *format == "json" {
		return audit.WriteExportV1(stdout, recs)
	}
	return writeRecordTable(stdout, recs)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, time.UTC)
}

func writeRecordTable(w io.Writer, recs []audit.Located) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tWHO\tSEQ\tEVENT\tQUERY\tANALYST\tDECISION\tDETAIL")
	for _, r := range recs {
		who := r.Component
		if r.Site != "" {
			who = "site " + r.Site
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format("2006-01-02 15:04:05.000"), who, r.Seq, r.Event,
			r.QueryID, r.Analyst, r.Decision, oneLine(detail(r.Record), 100))
	}
	return tw.Flush()
}

// detail is the most telling part of a record for one table cell.
func detail(r audit.Record) string {
	var parts []string
	if len(r.Reasons) > 0 {
		parts = append(parts, strings.Join(r.Reasons, "; "))
	}
	for _, s := range r.Sites {
		p := s.Site + ":" + string(s.Status)
		if s.SuppressedGroups > 0 {
			p += fmt.Sprintf("(-%d groups)", s.SuppressedGroups)
		}
		parts = append(parts, p)
	}
	if r.Head != nil {
		parts = append(parts, "signs "+r.Head.String())
	}
	if r.Error != "" && len(r.Reasons) == 0 {
		parts = append(parts, r.Error)
	}
	if r.SQL != "" {
		parts = append(parts, r.SQL)
	}
	return strings.Join(parts, " | ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
