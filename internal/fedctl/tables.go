package fedctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

// catalogView mirrors the coordinator's GET /v1/catalog answer.
type catalogView struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
		Sites     []string `json:"sites"`
		Conflicts []string `json:"conflicts"`
	} `json:"tables"`
	Undeclared []string `json:"undeclared_sites"`
}

// tables lists the federation's logical tables (with no argument) or
// describes one table (describe TABLE), from the coordinator's catalog.
func tables(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(name, stderr)
	cf := coordinatorFlags(fs, 30*time.Second)
	format := fs.String("format", "table", "output format: table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	want := ""
	switch {
	case name == "describe" && fs.NArg() == 1:
		want = fs.Arg(0)
	case name == "describe":
		return fmt.Errorf("%w: describe takes exactly one TABLE argument", errUsage)
	case fs.NArg() != 0:
		return fmt.Errorf("%w: tables takes no arguments", errUsage)
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want table or json", errUsage, *format)
	}
	tok, err := cf.resolveToken()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	status, raw, err := getCoordinator(ctx, cf, "/v1/catalog", tok)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return coordinatorError(stderr, cf.url, status, raw)
	}
	if *format == "json" && want == "" {
		_, err := stdout.Write(raw)
		return err
	}
	var cat catalogView
	if err := json.Unmarshal(raw, &cat); err != nil {
		return fmt.Errorf("coordinator %s answered with an unreadable catalog: %w", cf.url, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if want == "" {
		fmt.Fprintln(tw, "TABLE\tCOLUMNS\tSITES")
		for _, t := range cat.Tables {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Name, len(t.Columns), strings.Join(t.Sites, ","))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(cat.Undeclared) > 0 {
			fmt.Fprintf(stderr, "sites that declare no tables (may hold any): %s\n", strings.Join(cat.Undeclared, ", "))
		}
		return nil
	}
	for _, t := range cat.Tables {
		if t.Name != want {
			continue
		}
		if *format == "json" {
			return json.NewEncoder(stdout).Encode(t)
		}
		fmt.Fprintf(stdout, "Table %s at sites %s\n", t.Name, strings.Join(t.Sites, ", "))
		if len(t.Conflicts) > 0 {
			fmt.Fprintf(stdout, "Sites describing it differently: %s\n", strings.Join(t.Conflicts, ", "))
		}
		fmt.Fprintln(tw, "COLUMN\tTYPE")
		for _, c := range t.Columns {
			fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Type)
		}
		return tw.Flush()
	}
	names := make([]string, 0, len(cat.Tables))
	for _, t := range cat.Tables {
		names = append(names, t.Name)
	}
	return fmt.Errorf("no site reports a table %q (tables: %s); `fedctl tables` lists them", want, strings.Join(names, ", "))
}

// getCoordinator GETs path on the coordinator with the analyst's bearer
// token and returns the HTTP status and the raw answer.
func getCoordinator(ctx context.Context, cf *coordFlags, path, token string) (int, []byte, error) {
	return callCoordinator(ctx, cf, http.MethodGet, path, token)
}
