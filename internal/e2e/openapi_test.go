package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// TestOpenAPIRealResponses fetches the coordinator's /openapi.json and
// validates real answers of a 3-site federation against it: query,
// explain, policy explain, budget, catalog, an async submit, and errors.
func TestOpenAPIRealResponses(t *testing.T) {
	fed := startFederation(t, fedOptions{})
	res, err := http.Get(fed.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(res.Body)
	res.Body.Close()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		t.Fatalf("served /openapi.json: %v", err)
	}
	// Servers are matched by the router: describe the test's address.
	doc.Servers = openapi3.Servers{{URL: fed.url}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	const q = `{"sql": "SELECT region, COUNT(*) AS n FROM sales GROUP BY region", "purpose": "e2e test"}`
	for _, tc := range []struct {
		name, method, path, body, token string
		status                          int
	}{
		{"query", http.MethodPost, "/v1/query", q, fed.token, 200},
		{"explain", http.MethodPost, "/v1/explain", q, fed.token, 200},
		{"policy explain", http.MethodPost, "/v1/policy/explain", q, fed.token, 200},
		{"budget", http.MethodGet, "/v1/budget?table=sales", "", fed.token, 200},
		{"catalog", http.MethodGet, "/v1/catalog", "", fed.token, 200},
		{"async submit", http.MethodPost, "/v1/queries", q, fed.token, 202},
		{"unknown table", http.MethodPost, "/v1/query", `{"sql": "SELECT COUNT(*) FROM nope"}`, fed.token, 400},
		{"bad body", http.MethodPost, "/v1/query", `{"sql": 1}`, fed.token, 400},
		{"unauthenticated", http.MethodGet, "/v1/catalog", "", "wrong", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, fed.url+tc.path, bytes.NewReader([]byte(tc.body)))
			req.Header.Set("Authorization", "Bearer "+tc.token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
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
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode,
				Header: res.Header, Body: io.NopCloser(bytes.NewReader(body))}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response does not match openapi.json: %v\n%s", err, body)
			}
		})
	}
}
