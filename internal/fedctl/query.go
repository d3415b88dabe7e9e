package fedctl

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/coordinator"
)

// answer mirrors the coordinator's query response; numbers stay
// json.Number so big integers and exact decimals print unchanged.
type answer struct {
	QueryID          string                     `json:"query_id"`
	Columns          []column                   `json:"columns"`
	Rows             [][]any                    `json:"rows"`
	Sites            []siteStatus               `json:"sites"`
	SuppressedGroups int64                      `json:"suppressed_groups"`
	SuppressedReport string                     `json:"suppressed_report"`
	Approximate      []approxNote               `json:"approximate"`
	Privacy          *coordinator.PrivacyAnswer `json:"privacy"`
	// Suppressed: every site withheld a global aggregate; its values are
	// NULL because unknown, not zero.
	Suppressed bool         `json:"suppressed"`
	Error      *answerError `json:"error"`
	// Partial: the answer lacks the Missing sites (--allow-partial).
	Partial bool                      `json:"partial"`
	Missing []coordinator.MissingSite `json:"missing"`
}

// approxNote says that a column is a sketch estimate, and how close.
type approxNote struct {
	Column string `json:"column"`
	Bound  string `json:"bound"`
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type siteStatus struct {
	Site             string       `json:"site"`
	Status           audit.Status `json:"status"`
	Rows             int64        `json:"rows"`
	SuppressedGroups int64        `json:"suppressed_groups"`
}

type answerError struct {
	Code     coordinator.ErrorCode `json:"code"`
	Message  string                `json:"message"`
	Site     string                `json:"site"`
	Reasons  []string              `json:"reasons"`
	Position int                   `json:"position"`
	QueryID  string                `json:"query_id"`
	// RetryAfter: seconds to wait before retrying (site_busy, quota_exceeded).
	RetryAfter int `json:"retry_after"`
}

func query(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("query", stderr)
	cf := coordinatorFlags(fs, 2*time.Minute)
	purpose := fs.String("purpose", "", "why the query is asked (policies may require it)")
	format := fs.String("format", "table", "output format: table, csv or json")
	epsilon := fs.Float64("epsilon", 0, "differential privacy: the ε to spend at each site on protected tables (0: each site's default)")
	allowPartial := fs.Bool("allow-partial", false, "answer from the sites that succeeded when others are unavailable, if the coordinator allows it (partial_answers)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: query takes exactly one SQL argument (quote it, or - to read it from stdin)", errUsage)
	}
	if *epsilon < 0 {
		return fmt.Errorf("%w: --epsilon %v: must be > 0 (or 0 for each site's default)", errUsage, *epsilon)
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return fmt.Errorf("%w: --format %q: want table, csv or json", errUsage, *format)
	}
	tok, err := cf.resolveToken()
	if err != nil {
		return err
	}
	sql, err := sqlArg(fs.Arg(0))
	if err != nil {
		return err
	}
	body := map[string]any{"sql": sql, "purpose": *purpose}
	if *epsilon > 0 {
		body["privacy"] = map[string]float64{"epsilon": *epsilon}
	}
	if *allowPartial {
		body["allow_partial"] = true
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	status, raw, err := runQuery(ctx, cf, tok, body, isTerminal(stderr), stderr)
	if err != nil {
		return err
	}
	if *format == "json" {
		_, _ = stdout.Write(raw)
		if status != http.StatusOK {
			return errReported
		}
		return nil
	}
	var ans answer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil {
		return fmt.Errorf("coordinator %s answered HTTP %d with an unreadable body: %w", cf.url, status, err)
	}
	if ans.Error != nil {
		printError(stderr, ans.Error)
		return errReported
	}
	writePartial(stderr, &ans)
	if *format == "csv" {
		// The notes go to stderr so the CSV stays machine-readable.
		writeApprox(stderr, &ans)
		writeSuppressed(stderr, &ans)
		return writeCSV(stdout, &ans)
	}
	return writeTable(stdout, &ans)
}

// postCoordinator POSTs body as JSON to path on the coordinator with the
// analyst's bearer token and returns the HTTP status and the raw answer.
func postCoordinator(ctx context.Context, cf *coordFlags, path, token string, body any) (int, []byte, error) {
	coord := cf.url
	cl, err := cf.client()
	if err != nil {
		return 0, nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(coord, "/")+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, fmt.Errorf("--coordinator %q: %w", coord, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("coordinator %s: %w", coord, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("coordinator %s: read response: %w", coord, err)
	}
	return resp.StatusCode, raw, nil
}

// coordinatorError reports a non-200 answer: the coordinator's structured
// error when it sent one, else the raw body.
func coordinatorError(stderr io.Writer, coord string, status int, raw []byte) error {
	var e struct {
		Error *answerError `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error == nil {
		return fmt.Errorf("coordinator %s answered HTTP %d: %s", coord, status, bytes.TrimSpace(raw))
	}
	printError(stderr, e.Error)
	return errReported
}

// coordFlags are the flags every command that talks to the coordinator
// takes: where it is, the analyst's token, and how long to wait.
type coordFlags struct {
	url, token, tokenFile string
	ca                    string
	timeout               time.Duration
}

func coordinatorFlags(fs *flag.FlagSet, timeout time.Duration) *coordFlags {
	cf := &coordFlags{}
	fs.StringVar(&cf.url, "coordinator", envOr("FEDMESH_COORDINATOR", "http://127.0.0.1:8080"), "coordinator URL")
	fs.StringVar(&cf.token, "token", "", "analyst bearer token (default $FEDMESH_TOKEN, or the file named by --token-file)")
	fs.StringVar(&cf.ca, "ca", os.Getenv("FEDMESH_CA"), "CA certificate (PEM) to trust for an https coordinator (default $FEDMESH_CA, else the system pool)")
	fs.StringVar(&cf.tokenFile, "token-file", "", "file holding the analyst bearer token")
	fs.DurationVar(&cf.timeout, "timeout", timeout, "give up after this long")
	return cf
}

// resolveToken picks the analyst's token: --token, then --token-file, then
// $FEDMESH_TOKEN.
func (cf *coordFlags) resolveToken() (string, error) {
	switch {
	case cf.token != "":
		return cf.token, nil
	case cf.tokenFile != "":
		b, err := os.ReadFile(cf.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	case os.Getenv("FEDMESH_TOKEN") != "":
		return os.Getenv("FEDMESH_TOKEN"), nil
	}
	return "", fmt.Errorf("%w: no analyst token: pass --token, --token-file or set FEDMESH_TOKEN", errUsage)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func printError(w io.Writer, e *answerError) {
	switch e.Code {
	case coordinator.CodePolicyDenied:
		fmt.Fprintf(w, "DENIED by site %q (query %s):\n", e.Site, e.QueryID)
		for _, r := range e.Reasons {
			fmt.Fprintf(w, "  - %s\n", r)
		}
	default:
		fmt.Fprintf(w, "query failed (%s): %s\n", e.Code, e.Message)
		for _, r := range e.Reasons {
			fmt.Fprintf(w, "  - %s\n", r)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(w, "retry after %ds\n", e.RetryAfter)
	}
}

// writePartial warns that an answer lacks sites, naming each and why.
func writePartial(w io.Writer, ans *answer) {
	if !ans.Partial {
		return
	}
	fmt.Fprintf(w, "PARTIAL answer (query %s): %d site(s) missing\n", ans.QueryID, len(ans.Missing))
	for _, m := range ans.Missing {
		fmt.Fprintf(w, "  - %s (%s): %s\n", m.Site, m.Code, m.Reason)
	}
}

func writeTable(w io.Writer, ans *answer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	approx := map[string]bool{}
	for _, a := range ans.Approximate {
		approx[a.Column] = true
	}
	header := make([]string, len(ans.Columns))
	for i, c := range ans.Columns {
		header[i] = c.Name
		if approx[c.Name] {
			header[i] = "~" + c.Name
		}
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for r, row := range ans.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = noisyCell(ans.Privacy, ans.Columns[i].Name, r, cell(v))
			if ans.Suppressed && v == nil {
				cells[i] = "(suppressed)"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(%d rows; %s; query %s)\n", len(ans.Rows), suppressedText(ans), ans.QueryID)
	writeApprox(w, ans)
	writePrivacy(w, ans.Privacy)
	writeSuppressed(w, ans)
	return nil
}

// writeSuppressed says why a global aggregate shows no values.
func writeSuppressed(w io.Writer, ans *answer) {
	if ans.Suppressed {
		fmt.Fprintln(w, "suppressed: every site withheld this aggregate (too few rows for its policy); the values are unknown, not zero")
	}
}

// writeApprox lists the approximate columns (marked ~ in the table) with
// their error bounds.
func writeApprox(w io.Writer, ans *answer) {
	for _, a := range ans.Approximate {
		fmt.Fprintf(w, "~%s is approximate: %s\n", a.Column, a.Bound)
	}
}

func writeCSV(w io.Writer, ans *answer) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(ans.Columns))
	for i, c := range ans.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range ans.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			if v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell formats a value for the table: NULL visibly, long fractions cut to
// four places (csv and json keep full precision).
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				s = strconv.FormatFloat(f, 'f', 4, 64)
				s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			}
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}

// suppressedText says what the sites report of the groups they dropped, as
// much as their policy lets them: a count, a count rounded down to a power
// of ten, only whether some were dropped, or nothing.
func suppressedText(ans *answer) string {
	switch ans.SuppressedReport {
	case "none":
		return "the sites do not report suppressed groups"
	case "flag":
		if ans.SuppressedGroups > 0 {
			return "some groups suppressed by site policy (the sites report no number)"
		}
		return "no groups suppressed by site policy"
	}
	var per []string
	for _, s := range ans.Sites {
		per = append(per, fmt.Sprintf("%s: %d", s.Site, s.SuppressedGroups))
	}
	what := "groups suppressed by site policy"
	if ans.SuppressedReport == "coarse" {
		what = "groups suppressed by site policy (at least; rounded down to a power of ten)"
	}
	return fmt.Sprintf("%d %s [%s]", ans.SuppressedGroups, what, strings.Join(per, ", "))
}
