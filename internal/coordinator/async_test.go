package coordinator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAsyncQueries drives the async endpoints over HTTP with an injected
// execution: state while running, a page of the done query's rows, another
// analyst's 404, and a cancel that ends the execution's context.
func TestAsyncQueries(t *testing.T) {
	t.Parallel()
	c := &Coordinator{cfg: Config{Analysts: []Analyst{{ID: "ana", TokenSHA256: TokenHash("ana")}, {ID: "bob", TokenSHA256: TokenHash("bob")}}},
		async: newAsyncJobs(time.Now)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/queries/{id}", c.asyncEndpoint)
	mux.HandleFunc("DELETE /v1/queries/{id}", c.asyncEndpoint)
	mux.HandleFunc("GET /v1/queries/{id}/results", c.asyncEndpoint)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	do := func(method, path, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil {
			if err := json.NewDecoder(res.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
		return res.StatusCode
	}
	poll := func(id, want string) AsyncStatus {
		t.Helper()
		var st AsyncStatus
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if code := do(http.MethodGet, "/v1/queries/"+id, "ana", &st); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if st.State == want {
				return st
			}
		}
		t.Fatalf("query %s state %q, want %q", id, st.State, want)
		return st
	}

	release := make(chan struct{})
	rows := [][]any{{"a", 1.0}, {"b", 2.0}, {"c", 3.0}}
	done := c.async.submit(context.Background(), "ana", func(ctx context.Context) (*Answer, error) {
		<-release
		return &Answer{QueryID: "x", Rows: rows, Sites: []SiteStatus{{Site: "a", Status: "ok", Rows: 3}}}, nil
	})
	poll(done.id, StateRunning)
	if code := do(http.MethodGet, "/v1/queries/"+done.id+"/results", "ana", nil); code != http.StatusConflict {
		t.Errorf("results while running: %d, want 409", code)
	}
	close(release)
	if st := poll(done.id, StateDone); st.Rows != 3 || len(st.Sites) != 1 {
		t.Errorf("done status = %+v", st)
	}
	var page struct {
		Rows      [][]any `json:"rows"`
		Offset    int     `json:"offset"`
		TotalRows int     `json:"total_rows"`
	}
	if code := do(http.MethodGet, "/v1/queries/"+done.id+"/results?offset=1&limit=1", "ana", &page); code != http.StatusOK {
		t.Fatalf("results: %d", code)
	}
	if d := cmp.Diff([][]any{{"b", 2.0}}, page.Rows); d != "" || page.Offset != 1 || page.TotalRows != 3 {
		t.Errorf("page offset=1 limit=1: %+v (-want +got rows %s)", page, d)
	}
	if code := do(http.MethodGet, "/v1/queries/"+done.id+"/results?limit=0", "ana", nil); code != http.StatusBadRequest {
		t.Errorf("limit=0: %d, want 400", code)
	}
	for _, path := range []string{"/v1/queries/" + done.id, "/v1/queries/" + done.id + "/results"} {
		if code := do(http.MethodGet, path, "bob", nil); code != http.StatusNotFound {
			t.Errorf("another analyst GET %s: %d, want 404", path, code)
		}
	}
	if code := do(http.MethodDelete, "/v1/queries/"+done.id, "bob", nil); code != http.StatusNotFound {
		t.Errorf("another analyst DELETE: %d, want 404", code)
	}

	stopped := make(chan struct{})
	slow := c.async.submit(context.Background(), "ana", func(ctx context.Context) (*Answer, error) {
		<-ctx.Done()
		close(stopped)
		return nil, ctx.Err()
	})
	var st AsyncStatus
	if code := do(http.MethodDelete, "/v1/queries/"+slow.id, "ana", &st); code != http.StatusOK || st.State != StateCancelled {
		t.Errorf("DELETE: %d %+v, want 200 cancelled", code, st)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the execution's context")
	}
	if st := poll(slow.id, StateCancelled); st.Error != nil {
		t.Errorf("cancelled query reports an error: %+v", st.Error)
	}
}
