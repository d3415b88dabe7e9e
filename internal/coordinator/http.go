package coordinator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxRequestBytes bounds a query request body.
const maxRequestBytes = 1 << 20

func (c *Coordinator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/query", c.handleQuery)
	mux.HandleFunc("POST /v1/explain", c.handleExplain)
	mux.HandleFunc("POST /v1/policy/explain", c.handlePolicyExplain)
	c.reviewRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

type queryRequest struct {
	SQL     string `json:"sql"`
	Purpose string `json:"purpose"`
}

func (c *Coordinator) handleQuery(w http.ResponseWriter, r *http.Request) {
	an, ok := c.authenticate(bearer(r))
	if !ok {
		writeError(w, &QueryError{HTTPStatus: http.StatusUnauthorized, Code: "unauthenticated",
			Message: "missing or unknown bearer token; send Authorization: Bearer <token>"})
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	var req queryRequest
	if err := dec.Decode(&req); err != nil {
		writeError(w, &QueryError{HTTPStatus: http.StatusBadRequest, Code: "bad_request",
			Message: "request body must be JSON {\"sql\": \"...\", \"purpose\": \"...\"}: " + err.Error()})
		return
	}
	if strings.TrimSpace(req.SQL) == "" {
		writeError(w, &QueryError{HTTPStatus: http.StatusBadRequest, Code: "bad_request", Message: "sql: must be set"})
		return
	}
	ans, err := c.Query(r.Context(), an, req.SQL, req.Purpose)
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) {
			qe = &QueryError{HTTPStatus: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
		}
		writeError(w, qe)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func writeError(w http.ResponseWriter, qe *QueryError) {
	writeJSON(w, qe.HTTPStatus, map[string]any{"error": qe})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
