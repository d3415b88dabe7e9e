package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/fedmesh/fedmesh/internal/metrics"
	"github.com/fedmesh/fedmesh/internal/review"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// maxRequestBytes bounds a query request body.
const maxRequestBytes = 1 << 20

func (c *Coordinator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/query", sqlEndpoint(c, `{"sql": "...", "purpose": "...", "privacy": {"epsilon": 0.5}}`,
		func(ctx context.Context, an Analyst, req queryRequest) (any, error) {
			if err := checkPrivacyRequest(req.Privacy); err != nil {
				return nil, err
			}
			return c.QueryWith(ctx, an, req.SQL, req.Purpose, QueryOptions{Privacy: req.Privacy, AllowPartial: req.AllowPartial})
		}))
	mux.HandleFunc("POST /v1/explain", sqlEndpoint(c, `{"sql": "...", "purpose": "..."}`,
		func(ctx context.Context, an Analyst, req queryRequest) (any, error) {
			return c.Explain(ctx, an, req.SQL, req.Purpose)
		}))
	mux.HandleFunc("GET /v1/budget", c.budgetEndpoint)
	mux.HandleFunc("GET "+PathCatalog, c.catalogEndpoint)
	mux.HandleFunc("POST /v1/queries", sqlEndpoint(c, `{"sql": "...", "purpose": "..."}`, c.asyncSubmit))
	mux.HandleFunc("GET /v1/queries/{id}", c.asyncEndpoint)
	mux.HandleFunc("DELETE /v1/queries/{id}", c.asyncEndpoint)
	mux.HandleFunc("GET /v1/queries/{id}/results", c.asyncEndpoint)
	mux.HandleFunc("GET "+PathOpenAPI, serveOpenAPI)
	mux.HandleFunc("POST /v1/policy/explain", sqlEndpoint(c, `{"sql": "...", "purpose": "...", "sites": [...]}`,
		func(ctx context.Context, an Analyst, req policyExplainRequest) (any, error) {
			if err := checkPrivacyRequest(req.Privacy); err != nil {
				return nil, err
			}
			return c.PolicyExplainWith(ctx, an, req.SQL, req.Purpose, req.Sites, QueryOptions{Privacy: req.Privacy})
		}))
	mux.Handle(review.Path, review.New(review.Config{
		AuditPath: c.cfg.AuditPath,
		Logs:      c.cfg.ReviewLogs,
		Keys:      c.cfg.ReviewKeys,
		Authenticate: func(token string) (review.Caller, bool) {
			a, ok := c.authenticate(token)
			return review.Caller{ID: a.ID, Roles: a.Roles, Expires: a.Expires}, ok
		},
		Logger: c.cfg.Logger,
	}))
	mux.HandleFunc("GET "+PathLivez, livez)
	mux.HandleFunc("GET "+PathReadyz, c.readyz)
	if c.metrics != nil {
		mux.Handle("GET "+metrics.Path, c.metrics.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

type queryRequest struct {
	SQL     string `json:"sql"`
	Purpose string `json:"purpose"`
	// Privacy is what the analyst asks to spend at each site on tables
	// under differential privacy; each site's policy decides what it grants.
	Privacy *planner.PrivacyRequest `json:"privacy,omitempty"`
	// AllowPartial asks for an answer from the sites that succeeded when
	// others are unavailable (coordinator partial_answers decides).
	AllowPartial bool `json:"allow_partial,omitempty"`
}

// checkPrivacyRequest refuses a privacy request no site could grant.
func checkPrivacyRequest(p *planner.PrivacyRequest) error {
	if p == nil {
		return nil
	}
	bad := func(msg string) error {
		return &QueryError{HTTPStatus: http.StatusBadRequest, Code: "bad_request", Message: "privacy." + msg}
	}
	if math.IsNaN(p.Epsilon) || math.IsInf(p.Epsilon, 0) || p.Epsilon < 0 {
		return bad(fmt.Sprintf("epsilon: %v must be a positive number (or 0 for each site's default)", p.Epsilon))
	}
	if math.IsNaN(p.Delta) || p.Delta < 0 || p.Delta > policy.MaxDPDelta {
		return bad(fmt.Sprintf("delta: %v must be in [0, %v] (0 for each site's default)", p.Delta, policy.MaxDPDelta))
	}
	return nil
}

func (q queryRequest) sqlText() string { return q.SQL }

// sqlEndpoint serves one of the SQL endpoints: it authenticates the analyst,
// decodes a strict JSON body of the given shape that must carry SQL, runs
// do, and writes its result or its error. The endpoints differ only in do.
func sqlEndpoint[R interface{ sqlText() string }](c *Coordinator, shape string, do func(context.Context, Analyst, R) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		an, ok := c.authenticateRequest(w, r)
		if !ok {
			return
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		dec.DisallowUnknownFields()
		var req R
		if err := dec.Decode(&req); err != nil {
			writeError(w, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeBadRequest,
				Message: "request body must be JSON " + shape + ": " + err.Error()})
			return
		}
		if strings.TrimSpace(req.sqlText()) == "" {
			writeError(w, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeBadRequest, Message: "sql: must be set"})
			return
		}
		out, err := do(r.Context(), an, req)
		writeAnswer(w, out, err)
	}
}

// writeAnswer writes out, or err as the analyst's error (a *QueryError as
// it is, anything else as an internal error).
func writeAnswer(w http.ResponseWriter, out any, err error) {
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) {
			qe = &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: err.Error()}
		}
		writeError(w, qe)
		return
	}
	status := http.StatusOK
	if s, ok := out.(interface{ httpStatus() int }); ok {
		status = s.httpStatus()
	}
	writeJSON(w, status, out)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func writeError(w http.ResponseWriter, qe *QueryError) {
	if qe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(qe.RetryAfter))
	}
	writeJSON(w, qe.HTTPStatus, map[string]any{"error": qe})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
