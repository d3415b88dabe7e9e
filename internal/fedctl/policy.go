package fedctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/policy"
)

// policyTest runs a bundle's or the library's Rego tests with OPA's own
// test runner: `fedctl policy test DIR...` is `opa test DIR...`.
func policyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy test", stderr)
	verbose := fs.Bool("v", false, "list every test, not only failures")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: policy test takes one or more directories or .rego files", errUsage)
	}
	sum, err := policy.RunTests(ctx, stdout, *verbose, fs.Args()...)
	if err != nil {
		return err
	}
	if sum.Pass+sum.Fail+sum.Error == 0 {
		fmt.Fprintf(stderr, "no tests found in %s (tests are rules named test_*)\n", strings.Join(fs.Args(), " "))
		return errReported
	}
	if sum.Fail+sum.Error > 0 {
		return errReported
	}
	return nil
}

// policyExplanation mirrors the coordinator's POST /v1/policy/explain answer.
type policyExplanation struct {
	QueryID string `json:"query_id"`
	Sites   []struct {
		Site           string          `json:"site"`
		Allow          bool            `json:"allow"`
		Reasons        []string        `json:"reasons"`
		Obligations    json.RawMessage `json:"obligations"`
		BundleRevision string          `json:"bundle_revision"`
		EngineSQL      string          `json:"engine_sql"`
		Privacy        json.RawMessage `json:"privacy"`
		Error          string          `json:"error"`
	} `json:"sites"`
}

// policyExplain asks each site, through the coordinator, what its policy
// would decide on its part of a query, without running it.
func policyExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy explain", stderr)
	cf := coordinatorFlags(fs, 30*time.Second)
	purpose := fs.String("purpose", "", "the purpose to declare, as for a real query")
	sites := fs.String("site", "", "only these sites (comma-separated); default every participating site")
	format := fs.String("format", "text", "output format: text or json")
	epsilon := fs.Float64("epsilon", 0, "differential privacy: the ε the query would ask (0: each site's default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: policy explain takes exactly one SQL argument (quote it)", errUsage)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want text or json", errUsage, *format)
	}
	tok, err := cf.resolveToken()
	if err != nil {
		return err
	}
	body := map[string]any{"sql": fs.Arg(0), "purpose": *purpose, "sites": splitList(*sites)}
	if *epsilon > 0 {
		body["privacy"] = map[string]float64{"epsilon": *epsilon}
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	status, raw, err := postCoordinator(ctx, cf, "/v1/policy/explain", tok, body)
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
	var ex policyExplanation
	if err := json.Unmarshal(raw, &ex); err != nil {
		return fmt.Errorf("coordinator %s answered with an unreadable explanation: %w", cf.url, err)
	}
	writePolicyExplanation(stdout, &ex)
	return nil
}

func writePolicyExplanation(w io.Writer, ex *policyExplanation) {
	fmt.Fprintf(w, "policy dry run %s (nothing was executed)\n", ex.QueryID)
	for _, s := range ex.Sites {
		switch {
		case s.Error != "":
			fmt.Fprintf(w, "\nsite %s: ERROR %s\n", s.Site, s.Error)
			continue
		case s.Allow:
			fmt.Fprintf(w, "\nsite %s: ALLOW (bundle revision %s)\n", s.Site, s.BundleRevision)
		default:
			fmt.Fprintf(w, "\nsite %s: DENY (bundle revision %s)\n", s.Site, s.BundleRevision)
		}
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "  reason:      %s\n", r)
		}
		if len(s.Obligations) > 0 && s.Allow {
			fmt.Fprintf(w, "  obligations: %s\n", s.Obligations)
		}
		if s.EngineSQL != "" {
			fmt.Fprintf(w, "  site SQL:    %s\n", s.EngineSQL)
		}
		writeDPPreview(w, s.Privacy)
	}
}
