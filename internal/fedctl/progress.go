package fedctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// progressPoll is how often a query's progress is asked for.
const progressPoll = 250 * time.Millisecond

// isTerminal reports whether w is a terminal (a live progress line is
// drawn only there; piped stderr gets none).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type asyncStatus struct {
	QueryID  string `json:"query_id"`
	State    string `json:"state"`
	Progress []struct {
		Site  string `json:"site"`
		State string `json:"state"`
		Rows  int64  `json:"rows"`
	} `json:"progress"`
	SitesDone  int             `json:"sites_done"`
	SitesAsked int             `json:"sites_asked"`
	Error      json.RawMessage `json:"error"`
}

// runQuery runs body as a query and returns the coordinator's status and
// answer as POST /v1/query would. With progress it goes through the async
// API, drawing a per-site progress line on stderr, and cancels the query
// at every site if ctx ends first.
func runQuery(ctx context.Context, cf *coordFlags, token string, body any, progress bool, stderr io.Writer) (int, []byte, error) {
	if !progress {
		return postCoordinator(ctx, cf, "/v1/query", token, body)
	}
	status, raw, err := postCoordinator(ctx, cf, "/v1/queries", token, body)
	if err != nil || status != http.StatusAccepted {
		return status, raw, err
	}
	var st asyncStatus
	if err := json.Unmarshal(raw, &st); err != nil || st.QueryID == "" {
		return 0, nil, fmt.Errorf("coordinator %s answered a submitted query without an id: %s", cf.url, bytes.TrimSpace(raw))
	}
	path := "/v1/queries/" + st.QueryID
	defer fmt.Fprint(stderr, "\r\033[K")
	tick := time.NewTicker(progressPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Cancel at every site; the caller's context is over.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, _, _ = callCoordinator(dctx, cf, http.MethodDelete, path, token)
			cancel()
			return 0, nil, fmt.Errorf("query %s cancelled: %w", st.QueryID, ctx.Err())
		case <-tick.C:
		}
		status, raw, err := callCoordinator(ctx, cf, http.MethodGet, path, token)
		if err != nil {
			continue // ctx's end is handled above
		}
		if status != http.StatusOK {
			return status, raw, nil
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return 0, nil, fmt.Errorf("coordinator %s: unreadable query status: %w", cf.url, err)
		}
		fmt.Fprintf(stderr, "\r\033[K%s", progressLine(&st))
		switch st.State {
		case "done":
			return fetchAllRows(ctx, cf, path, token)
		case "failed", "cancelled":
			if len(st.Error) == 0 {
				st.Error = json.RawMessage(fmt.Sprintf(`{"code":"cancelled","message":"query %s was cancelled"}`, st.QueryID))
			}
			return http.StatusBadRequest, []byte(`{"error":` + string(st.Error) + `}`), nil
		}
	}
}

// progressLine renders a query's progress: sites done of asked, then
// each site's state and rows.
func progressLine(st *asyncStatus) string {
	parts := make([]string, 0, len(st.Progress))
	for _, p := range st.Progress {
		s := p.Site + " " + p.State
		if p.Rows > 0 {
			s += fmt.Sprintf(" (%d rows)", p.Rows)
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("%s: %d/%d sites done  %s", st.State, st.SitesDone, st.SitesAsked, strings.Join(parts, ", "))
}

// fetchAllRows reads a done query's result pages into one answer.
func fetchAllRows(ctx context.Context, cf *coordFlags, path, token string) (int, []byte, error) {
	var all map[string]json.RawMessage
	var rows []json.RawMessage
	for off := 0; ; {
		status, raw, err := callCoordinator(ctx, cf, http.MethodGet, fmt.Sprintf("%s/results?offset=%d&limit=10000", path, off), token)
		if err != nil || status != http.StatusOK {
			return status, raw, err
		}
		var page map[string]json.RawMessage
		var pr struct {
			Rows      []json.RawMessage `json:"rows"`
			TotalRows int               `json:"total_rows"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return 0, nil, fmt.Errorf("coordinator %s: unreadable results: %w", cf.url, err)
		}
		if err := json.Unmarshal(raw, &pr); err != nil {
			return 0, nil, fmt.Errorf("coordinator %s: unreadable results: %w", cf.url, err)
		}
		if all == nil {
			all = page
		}
		rows = append(rows, pr.Rows...)
		off += len(pr.Rows)
		if len(pr.Rows) == 0 || off >= pr.TotalRows {
			break
		}
	}
	delete(all, "offset")
	delete(all, "total_rows")
	if rows == nil {
		rows = []json.RawMessage{}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return 0, nil, err
	}
	all["rows"] = b
	out, err := json.Marshal(all)
	return http.StatusOK, out, err
}

// callCoordinator sends a bodiless request to path on the coordinator.
func callCoordinator(ctx context.Context, cf *coordFlags, method, path, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(cf.url, "/")+path, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("--coordinator %q: %w", cf.url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	cl, err := cf.client()
	if err != nil {
		return 0, nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("coordinator %s: %w", cf.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("coordinator %s: read response: %w", cf.url, err)
	}
	return resp.StatusCode, raw, nil
}
