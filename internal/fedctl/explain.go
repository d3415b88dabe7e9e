package fedctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	planexplain "github.com/fedmesh/fedmesh/planner/explain"
)

// explain asks the coordinator how it would run a query: the logical plan,
// each site's SQL in its dialect and the merge plan. Nothing runs.
func explain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain", stderr)
	cf := coordinatorFlags(fs, 30*time.Second)
	format := fs.String("format", "text", "output format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: explain takes exactly one SQL argument (quote it, or - to read it from stdin)", errUsage)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want text or json", errUsage, *format)
	}
	tok, err := cf.resolveToken()
	if err != nil {
		return err
	}
	sql, err := sqlArg(fs.Arg(0))
	if err != nil {
		return err
	}
	body := map[string]string{"sql": sql}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	status, raw, err := postCoordinator(ctx, cf, "/v1/explain", tok, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return coordinatorError(stderr, cf.url, status, raw)
	}
	if *format == "json" {
		_, err := stdout.Write(raw)
		return err
	}
	var ex planexplain.Explanation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ex); err != nil {
		return fmt.Errorf("coordinator %s answered with an unreadable plan: %w", cf.url, err)
	}
	writeExplanation(stdout, &ex)
	return nil
}

func writeExplanation(w io.Writer, ex *planexplain.Explanation) {
	l := ex.Logical
	fmt.Fprintf(w, "Logical plan: %s over %q\n", l.Kind, l.Table)
	if l.Filter != "" {
		fmt.Fprintf(w, "  filter:  %s\n", l.Filter)
	}
	for _, g := range l.GroupBy {
		fmt.Fprintf(w, "  key:     %s\n", g)
	}
	for _, p := range l.Partials {
		fmt.Fprintf(w, "  partial: %s\n", p)
	}
	fmt.Fprintln(w, "Sites:")
	for _, s := range ex.Sites {
		fmt.Fprintf(w, "  %s (%s):\n", s.Site, s.Dialect)
		if s.Error != "" {
			fmt.Fprintf(w, "    cannot render: %s\n", s.Error)
			continue
		}
		fmt.Fprintf(w, "    %s\n", s.SQL)
		for i, a := range s.Args {
			fmt.Fprintf(w, "    arg %d: %v\n", i+1, a)
		}
	}
	for _, s := range ex.Skipped {
		fmt.Fprintf(w, "  %s: not contacted (excluded by the filter on _site)\n", s)
	}
	for _, s := range ex.Lacking {
		fmt.Fprintf(w, "  %s: not contacted (does not hold table %q)\n", s, ex.Logical.Table)
	}
	fmt.Fprintln(w, "Merge at the coordinator:")
	for _, m := range ex.MergeText {
		fmt.Fprintf(w, "  %s\n", m)
	}
}
