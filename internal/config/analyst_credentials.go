package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/internal/credential"
)

// AnalystCredentials trusts one identity provider's signed analyst
// credentials (JWTs). In the coordinator's config it lets analysts send
// `Authorization: Bearer <JWT>` besides the static tokens of analysts:; in a
// site agent's config it is how the site verifies the analyst itself
// (invariant 7) instead of taking the coordinator's word.
type AnalystCredentials struct {
	// Issuer must equal the credential's iss exactly.
	Issuer string `yaml:"issuer"`
	// Audience must be among the credential's aud values.
	Audience string `yaml:"audience"`
	// Exactly one of JWKSFile (a JWKS document, re-read when it changes)
	// and JWKSURL (https, or http to a loopback address) is set.
	JWKSFile string `yaml:"jwks_file,omitempty"`
	JWKSURL  string `yaml:"jwks_url,omitempty"`
	// JWKSMinRefetch: a credential naming an unknown key id refetches
	// JWKSURL at most this often (default 30s). JWKSMaxAge: fetched keys
	// are refetched once this old (default 15m). JWKSTimeout bounds a
	// fetch (default 10s).
	JWKSMinRefetch Duration `yaml:"jwks_min_refetch,omitempty"`
	JWKSMaxAge     Duration `yaml:"jwks_max_age,omitempty"`
	JWKSTimeout    Duration `yaml:"jwks_timeout,omitempty"`
	// Algorithms the issuer may sign with: EdDSA, ES256, RS256 (default
	// all three). none and HS* are never accepted.
	Algorithms []string `yaml:"algorithms,omitempty"`
	// RolesClaim names the claim with the analyst's roles (default
	// "roles"); a dotted path such as realm_access.roles reaches into
	// nested objects.
	RolesClaim string `yaml:"roles_claim,omitempty"`
	// MaxLifetime refuses credentials whose exp − iat is longer (default 1h).
	MaxLifetime Duration `yaml:"max_lifetime,omitempty"`
	// Leeway tolerates clock skew on exp, nbf and iat (default 30s; 0s: none).
	Leeway *Duration `yaml:"leeway,omitempty"`
	// Required (site agents only; default true) refuses a sub-plan that
	// carries no credential. false serves such sub-plans on the
	// coordinator's word, for a migration; a credential that is present
	// must verify either way.
	Required *bool `yaml:"required,omitempty"`
}

// CredentialRequired reports whether a site refuses sub-plans without a
// credential (a nil block: no).
func (a *AnalystCredentials) CredentialRequired() bool {
	return a != nil && (a.Required == nil || *a.Required)
}

// validate checks the block at path and fills defaults. site says whether
// the file is a site agent's, where required may be set.
func (a *AnalystCredentials) validate(path, file string, site bool, p *problems) {
	if a.Issuer == "" {
		p.add(path+".issuer", "%v (the identity provider's iss, e.g. https://idp.example.org/realms/research)", errEmpty)
	}
	if a.Audience == "" {
		p.add(path+".audience", "%v (the aud the identity provider writes for this federation)", errEmpty)
	}
	switch {
	case a.JWKSFile == "" && a.JWKSURL == "":
		p.add(path+".jwks_file", "%v (the issuer's public keys), or set %s.jwks_url", errEmpty, path)
	case a.JWKSFile != "" && a.JWKSURL != "":
		p.add(path+".jwks_url", "set either %s.jwks_file or %s.jwks_url, not both", path, path)
	}
	if a.JWKSFile != "" {
		a.JWKSFile = resolve(file, a.JWKSFile)
	}
	if a.JWKSURL != "" {
		checkJWKSURL(path+".jwks_url", a.JWKSURL, p)
	}
	for i, alg := range a.Algorithms {
		switch {
		case alg == credential.EdDSA || alg == credential.ES256 || alg == credential.RS256:
		case strings.EqualFold(alg, "none") || strings.HasPrefix(strings.ToUpper(alg), "HS"):
			p.add(fmt.Sprintf("%s.algorithms[%d]", path, i), "%q is never accepted: credentials must be signed with the issuer's private key (EdDSA, ES256, RS256)", alg)
		default:
			p.add(fmt.Sprintf("%s.algorithms[%d]", path, i), "unknown algorithm %q (EdDSA, ES256, RS256)", alg)
		}
	}
	if a.RolesClaim == "" {
		a.RolesClaim = credential.DefaultRolesClaim
	} else if strings.HasPrefix(a.RolesClaim, ".") || strings.HasSuffix(a.RolesClaim, ".") || strings.Contains(a.RolesClaim, "..") {
		p.add(path+".roles_claim", "%q has an empty segment (want a claim name or a dotted path like realm_access.roles)", a.RolesClaim)
	}
	if a.MaxLifetime == 0 {
		a.MaxLifetime = Duration(credential.DefaultMaxLifetime)
	}
	if a.Leeway == nil {
		d := Duration(credential.DefaultLeeway)
		a.Leeway = &d
	}
	for _, f := range []struct {
		name string
		d    Duration
	}{{"max_lifetime", a.MaxLifetime}, {"leeway", *a.Leeway}, {"jwks_min_refetch", a.JWKSMinRefetch}, {"jwks_max_age", a.JWKSMaxAge}, {"jwks_timeout", a.JWKSTimeout}} {
		if f.d < 0 {
			p.add(path+"."+f.name, "must not be negative")
		}
	}
	if *a.Leeway >= 0 && a.MaxLifetime > 0 && *a.Leeway > a.MaxLifetime {
		p.add(path+".leeway", "%s is longer than max_lifetime %s", time.Duration(*a.Leeway), time.Duration(a.MaxLifetime))
	}
	if a.Required != nil && !site {
		p.add(path+".required", "only a site agent's config takes required (the coordinator accepts static tokens and credentials side by side)")
	}
}

// checkJWKSURL wants https; plain http only to a loopback address, since
// keys fetched in the clear could be swapped for an attacker's.
func checkJWKSURL(path, raw string, p *problems) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.add(path, "%q is not an https URL", raw)
		return
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		p.add(path, "%q: use https (keys fetched over plain http could be replaced in transit; http is allowed only to a loopback address)", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
