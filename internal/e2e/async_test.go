package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/fedmesh/fedmesh/enginebridge"
)

// holdEngine, once armed, blocks every engine query until its context
// ends, counting the queries that started and the ones that stopped.
type holdEngine struct {
	enginebridge.Engine
	armed            *atomic.Bool
	started, stopped *atomic.Int32
}

func (e *holdEngine) Query(ctx context.Context, sql string, args []any) (array.RecordReader, error) {
	if !e.armed.Load() {
		return e.Engine.Query(ctx, sql, args)
	}
	e.started.Add(1)
	<-ctx.Done()
	e.stopped.Add(1)
	return nil, ctx.Err()
}

// asyncDo sends method to path with token and decodes the JSON answer.
func asyncDo(t *testing.T, method, url, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// TestAsyncQuery submits a query over HTTP to a 3-site federation, polls
// it to done, pages its rows, checks another analyst cannot see it, then
// cancels a query every site is running and sees every site stop.
func TestAsyncQuery(t *testing.T) {
	var armed atomic.Bool
	var started, stopped atomic.Int32
	fed := startFederation(t, fedOptions{analysts: map[string]string{"bob": "bob-token"},
		wrapEngine: func(_ string, e enginebridge.Engine) enginebridge.Engine {
			return &holdEngine{Engine: e, armed: &armed, started: &started, stopped: &stopped}
		}})
	type status struct {
		QueryID string `json:"query_id"`
		State   string `json:"state"`
		Rows    int    `json:"rows"`
		Sites   []struct {
			Site string `json:"site"`
		} `json:"sites"`
		Progress []struct {
			Site  string `json:"site"`
			State string `json:"state"`
			Rows  int64  `json:"rows"`
		} `json:"progress"`
		SitesDone  int `json:"sites_done"`
		SitesAsked int `json:"sites_asked"`
	}
	submit := func() status {
		t.Helper()
		var s status
		if code := postJSON(t, fed.url+"/v1/queries", fed.token, map[string]string{"sql": admQuery, "purpose": "e2e test"}, &s); code != http.StatusAccepted || s.QueryID == "" {
			t.Fatalf("submit: %d %+v, want 202 with a query_id", code, s)
		}
		return s
	}
	poll := func(id, want string) status {
		t.Helper()
		var s status
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if code := asyncDo(t, http.MethodGet, fed.url+"/v1/queries/"+id, fed.token, &s); code != http.StatusOK {
				t.Fatalf("GET query: %d", code)
			}
			if s.State == want {
				return s
			}
		}
		t.Fatalf("query %s: state %q, want %q", id, s.State, want)
		return s
	}

	q := submit()
	done := poll(q.QueryID, "done")
	if done.Rows == 0 || len(done.Sites) != 3 {
		t.Errorf("done: %+v, want rows from 3 sites", done)
	}
	if done.SitesDone != 3 || done.SitesAsked != 3 {
		t.Errorf("done: sites %d/%d, want 3/3", done.SitesDone, done.SitesAsked)
	}
	for _, p := range done.Progress {
		if p.State != "done" || p.Rows == 0 {
			t.Errorf("site %s progress %+v, want done with rows", p.Site, p)
		}
	}
	var page struct {
		Rows      [][]any `json:"rows"`
		TotalRows int     `json:"total_rows"`
	}
	if code := asyncDo(t, http.MethodGet, fed.url+"/v1/queries/"+q.QueryID+"/results?offset=1&limit=2", fed.token, &page); code != http.StatusOK ||
		page.TotalRows != done.Rows || len(page.Rows) != min(2, done.Rows-1) {
		t.Errorf("results page: %d %+v (total %d)", code, page, done.Rows)
	}
	req, _ := http.NewRequest(http.MethodGet, fed.url+"/v1/queries/"+q.QueryID+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+fed.token)
	req.Header.Set("Accept", "application/vnd.apache.arrow.stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ipc.NewReader(res.Body)
	if err != nil {
		t.Fatalf("arrow stream (%s): %v", res.Header.Get("Content-Type"), err)
	}
	arrowRows := 0
	for rd.Next() {
		arrowRows += int(rd.RecordBatch().NumRows())
	}
	if err := rd.Err(); err != nil || arrowRows != done.Rows || rd.Schema().NumFields() != 2 {
		t.Errorf("arrow stream: %d rows, %v, schema %v; want %d rows", arrowRows, err, rd.Schema(), done.Rows)
	}
	if f := rd.Schema().Fields(); len(f) == 2 && (f[0].Type.ID() != arrow.STRING || f[1].Type.ID() != arrow.INT64) {
		t.Errorf("arrow schema %v, want region string and n int64", rd.Schema())
	}
	rd.Release()
	res.Body.Close()
	if code := asyncDo(t, http.MethodGet, fed.url+"/v1/queries/"+q.QueryID, "bob-token", nil); code != http.StatusNotFound {
		t.Errorf("bob sees alice's query: %d, want 404", code)
	}
	if code := asyncDo(t, http.MethodDelete, fed.url+"/v1/queries/"+q.QueryID, "bob-token", nil); code != http.StatusNotFound {
		t.Errorf("bob cancels alice's query: %d, want 404", code)
	}

	armed.Store(true)
	slow := submit()
	for deadline := time.Now().Add(20 * time.Second); started.Load() < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d sites started the slow query", started.Load())
		}
	}
	var s status
	if asyncDo(t, http.MethodGet, fed.url+"/v1/queries/"+slow.QueryID, fed.token, &s); s.State != "running" || s.SitesAsked != 3 || s.SitesDone != 0 {
		t.Errorf("slow query while held: %+v, want running at 3 sites, none done", s)
	}
	if code := asyncDo(t, http.MethodDelete, fed.url+"/v1/queries/"+slow.QueryID, fed.token, &s); code != http.StatusOK || s.State != "cancelled" {
		t.Errorf("DELETE: %d %+v, want 200 cancelled", code, s)
	}
	for deadline := time.Now().Add(20 * time.Second); stopped.Load() < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3 sites stopped after the cancel", stopped.Load())
		}
	}
	poll(slow.QueryID, "cancelled")
}
