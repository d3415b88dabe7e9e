package coordinator

import (
	_ "embed"
	"net/http"
)

// PathOpenAPI serves the API's hand-written OpenAPI 3.1 description.
const PathOpenAPI = "/openapi.json"

//go:embed openapi.json
var openAPISpec []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPISpec)
}
