package fedctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunQueryWithProgress runs a query through a fake coordinator's async
// API: the progress line shows sites done of asked, and the paged rows come
// back as one answer.
func TestRunQueryWithProgress(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/queries", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"query_id":"q1","state":"running"}`)
	})
	mux.HandleFunc("GET /v1/queries/q1", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 1 {
			_, _ = io.WriteString(w, `{"query_id":"q1","state":"running","progress":[{"site":"a","state":"done","rows":2},{"site":"b","state":"running","rows":0}],"sites_done":1,"sites_asked":2}`)
			return
		}
		_, _ = io.WriteString(w, `{"query_id":"q1","state":"done","progress":[],"sites_done":2,"sites_asked":2}`)
	})
	mux.HandleFunc("GET /v1/queries/q1/results", func(w http.ResponseWriter, r *http.Request) {
		off := r.URL.Query().Get("offset")
		row := map[string]string{"0": `["north",1]`, "1": `["south",2]`}[off]
		if row == "" {
			t.Errorf("unexpected offset %q", off)
		}
		fmt.Fprintf(w, `{"query_id":"q1","columns":[{"name":"region","type":"VARCHAR"},{"name":"n","type":"BIGINT"}],"rows":[%s],"sites":[],"offset":%s,"total_rows":2}`, row, off)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, raw, err := runQuery(ctx, &coordFlags{url: srv.URL}, "tok", map[string]string{"sql": "SELECT 1"}, true, &stderr)
	if err != nil || status != http.StatusOK {
		t.Fatalf("runQuery: %d %v %s", status, err, raw)
	}
	var ans struct {
		Rows      [][]any `json:"rows"`
		TotalRows *int    `json:"total_rows"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || len(ans.Rows) != 2 || ans.Rows[1][0] != "south" || ans.TotalRows != nil {
		t.Errorf("answer %s (%v)", raw, err)
	}
	if !strings.Contains(stderr.String(), "running: 1/2 sites done  a done (2 rows), b running") {
		t.Errorf("progress line missing: %q", stderr.String())
	}
	if isTerminal(&stderr) {
		t.Error("a buffer is taken for a terminal")
	}
}
