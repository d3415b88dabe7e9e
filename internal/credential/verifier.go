package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Defaults for the Config fields left zero.
const (
	DefaultRolesClaim   = "roles"
	DefaultMaxLifetime  = time.Hour
	DefaultLeeway       = 30 * time.Second
	DefaultFetchTimeout = 10 * time.Second
	DefaultMinRefetch   = 30 * time.Second
	DefaultMaxKeyAge    = 15 * time.Minute
)

// Config says which credentials a Verifier accepts.
type Config struct {
	// Issuer must equal the token's iss exactly.
	Issuer string
	// Audience must be one of the token's aud values (this federation, as
	// the identity provider names it).
	Audience string
	// Exactly one of JWKSFile and JWKSURL is set.
	//
	// JWKSFile is a JWKS document, re-read when it changes on disk.
	JWKSFile string
	// JWKSURL is fetched over HTTP(S) with HTTPClient (default: a client
	// with a FetchTimeout timeout), cached for MaxKeyAge, and refetched —
	// at most every MinRefetch — when a token names an unknown key id.
	JWKSURL      string
	HTTPClient   *http.Client
	FetchTimeout time.Duration // default DefaultFetchTimeout
	MinRefetch   time.Duration // default DefaultMinRefetch
	MaxKeyAge    time.Duration // default DefaultMaxKeyAge
	// Algorithms that may sign credentials; default DefaultAlgorithms.
	// Only EdDSA, ES256 and RS256 can be listed.
	Algorithms []string
	// RolesClaim names the claim holding the analyst's roles (a list of
	// strings), default "roles". A dotted path (realm_access.roles) walks
	// nested objects, unless a top-level claim has the whole name.
	RolesClaim string
	// MaxLifetime bounds exp − iat (default DefaultMaxLifetime).
	MaxLifetime time.Duration
	// Leeway tolerates clock skew on exp, nbf and iat (default
	// DefaultLeeway; negative: none).
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Analyst is who a verified credential says the caller is.
type Analyst struct {
	ID      string   // sub
	Roles   []string // from the roles claim; empty if the claim is absent
	TokenID string   // jti, if the issuer sets one
	Issuer  string   // iss
	Expires time.Time
}

// Verifier checks analyst credentials. It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	keys keySource
}

// New builds a Verifier. A JWKS file is read now (an unreadable or
// unusable file is an error); a JWKS URL is first fetched by the first
// Verify.
func New(cfg Config) (*Verifier, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer must be set"))
	}
	if cfg.Audience == "" {
		errs = append(errs, errors.New("audience must be set"))
	}
	if (cfg.JWKSFile == "") == (cfg.JWKSURL == "") {
		errs = append(errs, errors.New("set exactly one of the JWKS file and the JWKS URL"))
	}
	if cfg.JWKSURL != "" {
		if u, err := url.Parse(cfg.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("JWKS URL %q is not an http(s) URL", cfg.JWKSURL))
		}
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	for _, a := range cfg.Algorithms {
		if !supported(a) {
			errs = append(errs, fmt.Errorf("algorithm %q cannot sign analyst credentials (EdDSA, ES256, RS256)", a))
		}
	}
	if cfg.MaxLifetime < 0 {
		errs = append(errs, errors.New("maximum lifetime must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("analyst credentials: %w", err)
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "credential")
	v := &Verifier{cfg: cfg}
	if cfg.JWKSFile != "" {
		fs, err := newFileSource(cfg.JWKSFile, log)
		if err != nil {
			return nil, fmt.Errorf("analyst credentials: %w", err)
		}
		v.keys = fs
		return v, nil
	}
	client := cfg.HTTPClient
	if client == nil {
		timeout := cfg.FetchTimeout
		if timeout <= 0 {
			timeout = DefaultFetchTimeout
		}
		client = &http.Client{Timeout: timeout}
	}
	us := &urlSource{url: cfg.JWKSURL, client: client, minRefetch: cfg.MinRefetch, maxAge: cfg.MaxKeyAge, now: cfg.Now, log: log}
	if us.minRefetch <= 0 {
		us.minRefetch = DefaultMinRefetch
	}
	if us.maxAge <= 0 {
		us.maxAge = DefaultMaxKeyAge
	}
	v.keys = us
	return v, nil
}

// Issuer is the issuer the Verifier trusts.
func (v *Verifier) Issuer() string { return v.cfg.Issuer }

// Audience is the audience the Verifier requires.
func (v *Verifier) Audience() string { return v.cfg.Audience }

// Verify checks raw, a compact JWS, and returns the analyst it names.
// Every refusal is an *Error matching ErrInvalid; keys that could not be
// loaded give an *Error matching ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Analyst, error) {
	tok, err := splitToken(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.cfg.Algorithms, tok.header.Alg) {
		return nil, invalid(fmt.Sprintf("algorithm %q is not accepted (this verifier accepts %v)", tok.header.Alg, v.cfg.Algorithms))
	}
	if tok.header.Kid == "" {
		return nil, invalid("token has no key id (kid) in its header")
	}
	key, ok, err := v.keys.lookup(ctx, tok.header.Kid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid(fmt.Sprintf("signed by unknown key id %q", tok.header.Kid))
	}
	if key.alg != tok.header.Alg {
		return nil, invalid(fmt.Sprintf("key id %q is a %s key; the token claims %s", tok.header.Kid, key.alg, tok.header.Alg))
	}
	payload, err := verifySignature(raw, key)
	if err != nil {
		return nil, invalid(fmt.Sprintf("signature does not verify with key id %q", tok.header.Kid))
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	return v.check(c)
}
