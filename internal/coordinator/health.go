package coordinator

import (
	"io"
	"net/http"
)

// Health endpoints for orchestrators; neither needs a token.
const (
	PathLivez  = "/livez"
	PathReadyz = "/readyz"
)

// readiness is the body of /readyz.
type readiness struct {
	Ready bool `json:"ready"`
	// Audit is "ok" or why the audit log cannot take records.
	Audit string `json:"audit"`
	// Sites maps each site to "known" (its catalog was fetched) or
	// "missing" (never fetched yet: down, or still starting).
	Sites map[string]string `json:"sites"`
}

// livez answers 200 while the process serves HTTP at all.
func livez(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok\n")
}

// readyz answers 200 when the coordinator can answer queries: its audit
// log is open and healthy (a failed log refuses every query) and at least
// one site's catalog is known. A site whose catalog is missing does not
// make the coordinator unready, since queries over the other sites still
// work and a query that needs the site asks it again; the body names it.
// Otherwise 503.
func (c *Coordinator) readyz(w http.ResponseWriter, _ *http.Request) {
	r := readiness{Audit: "ok", Sites: make(map[string]string, len(c.cfg.Sites))}
	auditOK := c.audit != nil && c.audit.Err() == nil
	if !auditOK {
		r.Audit = "not open"
		if c.audit != nil {
			r.Audit = c.audit.Err().Error()
		}
	}
	known := 0
	for _, s := range c.cfg.Sites {
		if c.catalogs.get(s.Name) != nil {
			r.Sites[s.Name] = "known"
			known++
		} else {
			r.Sites[s.Name] = "missing"
		}
	}
	r.Ready = auditOK && known > 0
	status := http.StatusOK
	if !r.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, r)
}

// pathQuery is the query endpoint, whose answers the metrics count.
const pathQuery = "/v1/query"

// observeQueries counts the answers of POST /v1/query in the metrics,
// leaving the routes themselves alone.
func (c *Coordinator) observeQueries(next http.Handler) http.Handler {
	if c.metrics == nil {
		return next
	}
	counted := c.metrics.Queries(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == pathQuery {
			counted.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// catalogsKnown maps every configured site to whether its catalog is known.
func (c *Coordinator) catalogsKnown() map[string]bool {
	out := make(map[string]bool, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		out[s.Name] = c.catalogs.get(s.Name) != nil
	}
	return out
}
