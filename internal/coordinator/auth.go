package coordinator

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/fedmesh/fedmesh/internal/credential"
)

// looksLikeJWT tells a signed credential (header.payload.signature) from a
// static token. A bearer value of that shape is only ever verified as a
// credential, never compared with the static token hashes, so a forged
// credential cannot fall through to another way in.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// verifyCredential checks a signed analyst credential and returns the
// analyst it names, keeping the raw credential so it can be forwarded to the
// sites, which verify it themselves.
func (c *Coordinator) verifyCredential(ctx context.Context, token string) (Analyst, error) {
	if c.cfg.AnalystVerifier == nil {
		return Analyst{}, &credential.Error{Reason: "this coordinator accepts no signed credentials (JWTs); use your static token, or ask its operator to configure analyst_credentials"}
	}
	a, err := c.cfg.AnalystVerifier.Verify(ctx, token)
	if err != nil {
		return Analyst{}, err
	}
	return Analyst{ID: a.ID, Roles: a.Roles, Credential: token, Expires: a.Expires}, nil
}

// authenticateRequest authenticates the analyst of an API request from its
// bearer token: a signed credential when it has the shape of one, else a
// static token. On failure it writes the error — 401 with the reason a
// credential was refused, or 503 when the issuer's keys cannot be had — and
// returns false.
func (c *Coordinator) authenticateRequest(w http.ResponseWriter, r *http.Request) (Analyst, bool) {
	tok := bearer(r)
	if !looksLikeJWT(tok) {
		an, ok := c.authenticate(tok)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fedmesh"`)
			writeError(w, &QueryError{HTTPStatus: http.StatusUnauthorized, Code: "unauthenticated",
				Message: "missing or unknown bearer token; send Authorization: Bearer <token>"})
		}
		return an, ok
	}
	an, err := c.verifyCredential(r.Context(), tok)
	if err == nil {
		return an, true
	}
	c.log.Warn("analyst credential refused", "reason", err.Error(), "remote", r.RemoteAddr)
	if errors.Is(err, credential.ErrUnavailable) {
		writeError(w, &QueryError{HTTPStatus: http.StatusServiceUnavailable, Code: "credential_unavailable",
			Message: err.Error() + "; try again shortly"})
		return Analyst{}, false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="fedmesh", error="invalid_token"`)
	writeError(w, &QueryError{HTTPStatus: http.StatusUnauthorized, Code: "unauthenticated", Message: err.Error()})
	return Analyst{}, false
}
