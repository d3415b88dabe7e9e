package review

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/logkey"
)

// RoleAuditor is the role a caller needs to read the pages.
const RoleAuditor = "auditor"

// Path is where the pages live; the coordinator mounts the Handler here.
const Path = "/audit/"

// Caller is an authenticated holder of a bearer token.
type Caller struct {
	ID    string
	Roles []string
	// Expires, when set, ends the caller's session with their credential.
	Expires time.Time
}

// Config says which logs the pages show and who may read them.
type Config struct {
	// AuditPath is the coordinator's own log, always shown.
	AuditPath string
	// Logs are the other logs shown (site agents' logs readable here);
	// Keys check their signed heads (nil: heads are compared, signatures
	// not checked).
	Logs []string
	Keys audit.Keyring
	// Authenticate maps a bearer token to its holder; only holders with
	// RoleAuditor are let in.
	Authenticate func(token string) (Caller, bool)
	Logger       *slog.Logger
}

// Handler serves the read-only audit review pages under Path.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	sessions sessions
	mux      *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the pages' handler. A nil logger discards logs.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, log: cfg.Logger.With(logkey.Component, "review"), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /audit/{$}", h.auditor(h.handleIndex))
	h.mux.HandleFunc("GET /audit/query/{id}", h.auditor(h.handleQuery))
	h.mux.HandleFunc("GET /audit/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		http.ServeFileFS(w, r, pageFS, "templates/style.css")
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

const (
	sessionCookie = "fedmesh_audit"
	sessionTTL    = 8 * time.Hour
)

//go:embed templates/*.html templates/*.css
var pageFS embed.FS

var pageTmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"short": func(s string) string { return shortHash(s) },
	"join":  func(ss []string, sep string) string { return joinStrings(ss, sep) },
}).ParseFS(pageFS, "templates/*.html"))

// sessions holds the review page's browser sessions: a random id in an
// HttpOnly cookie maps to an auditor, so the bearer token itself is never
// kept in the browser.
type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

type session struct {
	who     Caller
	expires time.Time
}

func (s *sessions) create(a Caller) string {
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
	// A session signed in with a credential ends when the credential does.
	expires := now.Add(sessionTTL)
	if !a.Expires.IsZero() && a.Expires.Before(expires) {
		expires = a.Expires
	}
	s.m[id] = session{who: a, expires: expires}
	return id
}

func (s *sessions) get(id string) (Caller, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || time.Now().After(v.expires) {
		return Caller{}, false
	}
	return v.who, true
}

// auditor admits callers holding the auditor role: by bearer token, by
// session cookie, or — once, for a browser — by ?token=, which is swapped
// for a session cookie and a redirect to the same page without the token.
func (h *Handler) auditor(next func(http.ResponseWriter, *http.Request, Caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		if tok := r.URL.Query().Get("token"); tok != "" {
			a, ok := h.authenticate(tok)
			if !ok || !slices.Contains(a.Roles, RoleAuditor) {
				h.denied(w, ok)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: h.sessions.create(a), Path: Path,
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL.Seconds())})
			u := *r.URL
			q := u.Query()
			q.Del("token")
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		var a Caller
		ok := false
		if tok := bearer(r); tok != "" {
			a, ok = h.authenticate(tok)
		} else if ck, err := r.Cookie(sessionCookie); err == nil {
			a, ok = h.sessions.get(ck.Value)
		}
		if !ok || !slices.Contains(a.Roles, RoleAuditor) {
			h.denied(w, ok)
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

func (h *Handler) denied(w http.ResponseWriter, known bool) {
	status, msg := http.StatusUnauthorized, "Sign in: open /audit/?token=YOUR_TOKEN once (the token is exchanged for a session cookie), or send Authorization: Bearer YOUR_TOKEN."
	if known {
		status, msg = http.StatusForbidden, "This page is for auditors: your token does not carry the \"auditor\" role."
	}
	h.renderPage(w, status, "denied.html", map[string]any{"Message": msg})
}

func (h *Handler) renderPage(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTmpl.ExecuteTemplate(w, name, data); err != nil {
		h.log.Error("render review page", logkey.Page, name, logkey.Err, err)
	}
}

func (h *Handler) handleIndex(w http.ResponseWriter, r *http.Request, who Caller) {
	f := parseFilter(r.URL.Query())
	v, err := h.load(f)
	if err != nil {
		h.log.Error("review page: read audit logs", logkey.Err, err)
		h.renderPage(w, http.StatusInternalServerError, "denied.html", map[string]any{"Message": "Could not read the audit logs: " + err.Error()})
		return
	}
	v.Auditor = who.ID
	h.renderPage(w, http.StatusOK, "index.html", v)
}

func (h *Handler) handleQuery(w http.ResponseWriter, r *http.Request, who Caller) {
	id := r.PathValue("id")
	v, err := h.load(filter{QueryID: id})
	if err != nil {
		h.log.Error("review page: read audit logs", logkey.Err, err)
		h.renderPage(w, http.StatusInternalServerError, "denied.html", map[string]any{"Message": "Could not read the audit logs: " + err.Error()})
		return
	}
	if len(v.Queries) == 0 {
		h.renderPage(w, http.StatusNotFound, "denied.html", map[string]any{"Message": "No query with id " + id + " in the coordinator's audit log."})
		return
	}
	v.Auditor = who.ID
	h.renderPage(w, http.StatusOK, "query.html", map[string]any{"V": v, "Q": v.Queries[0]})
}

func queryLink(id string) string { return Path + "query/" + url.PathEscape(id) }

// authenticate asks Config.Authenticate about token; an empty token is no one.
func (h *Handler) authenticate(token string) (Caller, bool) {
	if token == "" || h.cfg.Authenticate == nil {
		return Caller{}, false
	}
	return h.cfg.Authenticate(token)
}

// bearer is the token of an Authorization: Bearer header, "" without one.
func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}
