package coordinator

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// RoleAuditor is the role an analyst entry needs to read /audit/.
const RoleAuditor = "auditor"

const (
	sessionCookie = "fedmesh_audit"
	sessionTTL    = 8 * time.Hour
)

//go:embed templates/*.html templates/*.css
var reviewFS embed.FS

var reviewTmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"short": func(s string) string { return shortHash(s) },
	"join":  func(ss []string, sep string) string { return joinStrings(ss, sep) },
}).ParseFS(reviewFS, "templates/*.html"))

// sessions holds the review page's browser sessions: a random id in an
// HttpOnly cookie maps to an auditor, so the bearer token itself is never
// kept in the browser.
type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

type session struct {
	who     Analyst
	expires time.Time
}

func (s *sessions) create(a Analyst) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]session{}
	}
	now := time.Now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	// A session signed in with a credential ends when the credential does;
	// the page never forwards it, so it is not kept.
	expires := now.Add(sessionTTL)
	if !a.Expires.IsZero() && a.Expires.Before(expires) {
		expires = a.Expires
	}
	a.Credential = ""
	s.m[id] = session{who: a, expires: expires}
	return id
}

func (s *sessions) get(id string) (Analyst, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || time.Now().After(v.expires) {
		return Analyst{}, false
	}
	return v.who, true
}

func (c *Coordinator) reviewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /audit/{$}", c.auditor(c.handleReviewIndex))
	mux.HandleFunc("GET /audit/query/{id}", c.auditor(c.handleReviewQuery))
	mux.HandleFunc("GET /audit/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		http.ServeFileFS(w, r, reviewFS, "templates/style.css")
	})
}

// auditor admits callers holding the auditor role: by bearer token, by
// session cookie, or — once, for a browser — by ?token=, which is swapped
// for a session cookie and a redirect to the same page without the token.
func (c *Coordinator) auditor(next func(http.ResponseWriter, *http.Request, Analyst)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		if tok := r.URL.Query().Get("token"); tok != "" {
			a, ok := c.authenticate(tok)
			if !ok || !slices.Contains(a.Roles, RoleAuditor) {
				c.reviewDenied(w, ok)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: c.reviewSessions.create(a), Path: "/audit/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL.Seconds())})
			u := *r.URL
			q := u.Query()
			q.Del("token")
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		var a Analyst
		ok := false
		if tok := bearer(r); tok != "" {
			a, ok = c.authenticate(tok)
		} else if ck, err := r.Cookie(sessionCookie); err == nil {
			a, ok = c.reviewSessions.get(ck.Value)
		}
		if !ok || !slices.Contains(a.Roles, RoleAuditor) {
			c.reviewDenied(w, ok)
			return
		}
		next(w, r, a)
	}
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (c *Coordinator) reviewDenied(w http.ResponseWriter, known bool) {
	status, msg := http.StatusUnauthorized, "Sign in: open /audit/?token=YOUR_TOKEN once (the token is exchanged for a session cookie), or send Authorization: Bearer YOUR_TOKEN."
	if known {
		status, msg = http.StatusForbidden, "This page is for auditors: your token does not carry the \"auditor\" role."
	}
	c.renderPage(w, status, "denied.html", map[string]any{"Message": msg})
}

func (c *Coordinator) renderPage(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := reviewTmpl.ExecuteTemplate(w, name, data); err != nil {
		c.log.Error("render review page", "page", name, "err", err)
	}
}

func (c *Coordinator) handleReviewIndex(w http.ResponseWriter, r *http.Request, who Analyst) {
	f := parseReviewFilter(r.URL.Query())
	v, err := c.loadReview(f)
	if err != nil {
		c.log.Error("review page: read audit logs", "err", err)
		c.renderPage(w, http.StatusInternalServerError, "denied.html", map[string]any{"Message": "Could not read the audit logs: " + err.Error()})
		return
	}
	v.Auditor = who.ID
	c.renderPage(w, http.StatusOK, "index.html", v)
}

func (c *Coordinator) handleReviewQuery(w http.ResponseWriter, r *http.Request, who Analyst) {
	id := r.PathValue("id")
	v, err := c.loadReview(reviewFilter{QueryID: id})
	if err != nil {
		c.log.Error("review page: read audit logs", "err", err)
		c.renderPage(w, http.StatusInternalServerError, "denied.html", map[string]any{"Message": "Could not read the audit logs: " + err.Error()})
		return
	}
	if len(v.Queries) == 0 {
		c.renderPage(w, http.StatusNotFound, "denied.html", map[string]any{"Message": "No query with id " + id + " in the coordinator's audit log."})
		return
	}
	v.Auditor = who.ID
	c.renderPage(w, http.StatusOK, "query.html", map[string]any{"V": v, "Q": v.Queries[0]})
}

func queryLink(id string) string { return "/audit/query/" + url.PathEscape(id) }
