package fedctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/policy"
)

// noisyCell decorates a noisy column's cell with its 95% interval:
// "v ±h" when the same for every row, "v [lo, hi]" per row.
func noisyCell(p *coordinator.PrivacyAnswer, col string, row int, s string) string {
	if p == nil {
		return s
	}
	for _, c := range p.Columns {
		switch {
		case c.Name != col:
		case c.CI95 != nil:
			return fmt.Sprintf("%s ±%s", s, short(*c.CI95))
		case row < len(c.Intervals) && c.Intervals[row] != nil:
			return fmt.Sprintf("%s [%s, %s]", s, short(c.Intervals[row][0]), short(c.Intervals[row][1]))
		}
	}
	return s
}

func short(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// writePrivacy explains a differentially private answer below its table.
func writePrivacy(w io.Writer, p *coordinator.PrivacyAnswer) {
	if p == nil {
		return
	}
	fmt.Fprintln(w, "differentially private: values carry noise; ± and [ ] are 95% intervals")
	for _, c := range p.Columns {
		if c.NoiseSD != nil {
			fmt.Fprintf(w, "  %s: noise sd %s\n", c.Name, short(*c.NoiseSD))
		} else if c.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", c.Name, c.Note)
		}
	}
	for _, s := range p.Sites {
		fmt.Fprintf(w, "  site %s charged ε=%g (δ=%g, ρ=%.4g) on %s; left: %s\n", s.Site, s.Epsilon, s.Delta, s.Rho, s.Table, budgetText(s.Budget))
	}
}

func budgetText(b []policy.BudgetLeft) string {
	if len(b) == 0 {
		return "no limit"
	}
	parts := make([]string, 0, len(b))
	for _, p := range b {
		t := fmt.Sprintf("%s ρ=%.4g of %.4g", p.Period, p.Left, p.Limit)
		if !p.Renews.IsZero() {
			t += " (renews " + p.Renews.UTC().Format(time.RFC3339) + ")"
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, ", ")
}

// budget shows the analyst's privacy budget for a table at every site
// that protects it, as the sites' own ledgers have it.
func budget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("budget", stderr)
	cf := coordinatorFlags(fs, 30*time.Second)
	format := fs.String("format", "table", "output format: table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: budget takes exactly one table name", errUsage)
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
	status, raw, err := getCoordinator(ctx, cf, "/v1/budget?table="+url.QueryEscape(fs.Arg(0)), tok)
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
	var b coordinator.Budget
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("coordinator %s answered with an unreadable budget: %w", cf.url, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "site\tprotected\tone query (default ε)\tbudget left (zCDP ρ)\n")
	for _, s := range b.Sites {
		switch {
		case s.Error != "":
			fmt.Fprintf(tw, "%s\t?\t\terror: %s\n", s.Site, s.Error)
		case !s.Protected && len(s.Reasons) > 0:
			fmt.Fprintf(tw, "%s\t?\t\trefused: %s\n", s.Site, strings.Join(s.Reasons, "; "))
		case !s.Protected:
			fmt.Fprintf(tw, "%s\tno\t\texact answers, no budget\n", s.Site)
		default:
			fmt.Fprintf(tw, "%s\tyes\tε=%g (ρ=%.4g)\t%s\n", s.Site, s.Epsilon, s.Rho, budgetText(s.Budget))
		}
	}
	return tw.Flush()
}

// writeDPPreview shows what a site under differential privacy would charge
// and the noise it would add (from a policy explain).
func writeDPPreview(w io.Writer, raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	var r policy.DPReport
	if err := json.Unmarshal(raw, &r); err != nil {
		fmt.Fprintf(w, "  privacy:     unreadable report: %v\n", err)
		return
	}
	fmt.Fprintf(w, "  privacy:     differentially private on %s; would charge ε=%g (δ=%g, ρ=%.4g); budget left: %s\n",
		r.Table, r.Epsilon, r.Delta, r.Rho, budgetText(r.Budget))
	for _, c := range r.Columns {
		fmt.Fprintf(w, "  noise:       %s (%s) ±%s at 95%% (sd %s)\n", c.Name, c.Kind, short(1.96*c.Sigma), short(c.Sigma))
	}
	if r.Threshold > 0 {
		fmt.Fprintf(w, "  release:     groups whose noisy count reaches %d\n", r.Threshold)
	}
}
