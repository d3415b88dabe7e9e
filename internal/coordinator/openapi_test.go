package coordinator

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/metrics"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPISpec)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}
	return doc
}

// TestOpenAPIDescribesRoutes checks that every operation the description
// names is routed by routes() to the same pattern (not a 404 or 405).
func TestOpenAPIDescribesRoutes(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	// With metrics: /metrics is routed only when the coordinator has them.
	c := &Coordinator{catalogs: newCatalogs(nil), async: newAsyncJobs(time.Now), metrics: metrics.NewCoordinator()}
	mux := c.routes().(*http.ServeMux)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			concrete := strings.ReplaceAll(path, "{id}", "q1")
			_, pattern := mux.Handler(httptest.NewRequest(method, concrete, nil))
			if pattern == "" {
				t.Errorf("%s %s is described but not routed", method, path)
			}
		}
	}
}

// TestOpenAPIResponses validates real responses of the catalog, async and
// error paths against the description.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	sites := []Site{{Name: "a"}}
	c := &Coordinator{cfg: Config{Sites: sites, Analysts: []Analyst{{ID: "ana", TokenSHA256: TokenHash("tok")}}},
		catalogs: newCatalogs(sites), async: newAsyncJobs(time.Now)}
	c.catalogs.set("a", &flight.CatalogResult{Site: "a", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: []planner.ColumnSchema{{Name: "n", Type: "BIGINT"}}}}})
	done := c.async.submit(context.Background(), "ana", func(context.Context) (*Answer, error) {
		return &Answer{QueryID: "x", Columns: []merge.Column{{Name: "n", Type: "BIGINT"}}, Rows: [][]any{{1}}, Sites: []SiteStatus{{Site: "a", Status: "ok", Rows: 1}}}, nil
	})
	for deadline := time.Now().Add(5 * time.Second); done.status(time.Now()).State != StateDone; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("query not done")
		}
	}
	srv := httptest.NewServer(c.routes())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
	}{
		{"catalog", http.MethodGet, "/v1/catalog", "tok", 200},
		{"unauthenticated", http.MethodGet, "/v1/catalog", "bad", 401},
		{"async status", http.MethodGet, "/v1/queries/" + done.id, "tok", 200},
		{"async results", http.MethodGet, "/v1/queries/" + done.id + "/results?offset=0&limit=10", "tok", 200},
		{"async not found", http.MethodGet, "/v1/queries/nope", "tok", 404},
		{"async cancel finished", http.MethodDelete, "/v1/queries/" + done.id, "tok", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("no described route: %v", err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
				Body: io.NopCloser(bytes.NewReader(body))}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response does not match openapi.json: %v\n%s", err, body)
			}
		})
	}
}
