package credential

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// check validates verified claims against the configuration, in the order
// an operator would look: whose token, for whom, when, who.
func (v *Verifier) check(c claims) (*Analyst, error) {
	iss, err := c.str("iss")
	if err != nil {
		return nil, err
	}
	if iss != v.cfg.Issuer {
		return nil, invalid(fmt.Sprintf("issuer %q is not the trusted issuer %q", iss, v.cfg.Issuer))
	}
	aud, err := c.audience()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(aud, v.cfg.Audience) {
		return nil, invalid(fmt.Sprintf("audience %q not in token's aud %q", v.cfg.Audience, aud))
	}
	exp, hasExp, err := c.date("exp")
	if err != nil {
		return nil, err
	}
	iat, hasIat, err := c.date("iat")
	if err != nil {
		return nil, err
	}
	nbf, hasNbf, err := c.date("nbf")
	if err != nil {
		return nil, err
	}
	switch {
	case !hasExp:
		return nil, invalid("token has no expiry (exp); this site accepts only tokens that expire")
	case !hasIat:
		return nil, invalid("token has no issue time (iat); this site cannot bound its lifetime")
	}
	now, leeway := v.cfg.Now().UTC(), v.cfg.Leeway
	switch {
	case !now.Before(exp.Add(leeway)):
		return nil, invalid(fmt.Sprintf("expired at %s (now %s)", stamp(exp, exp), stamp(now, exp)))
	case hasNbf && now.Add(leeway).Before(nbf):
		return nil, invalid(fmt.Sprintf("not valid before %s (now %s)", stamp(nbf, nbf), stamp(now, nbf)))
	case now.Add(leeway).Before(iat):
		return nil, invalid(fmt.Sprintf("issued in the future at %s (now %s); check the issuer's clock", stamp(iat, iat), stamp(now, iat)))
	case exp.Sub(iat) > v.cfg.MaxLifetime:
		return nil, invalid(fmt.Sprintf("lifetime %s exceeds the site's maximum %s", shortDuration(exp.Sub(iat)), shortDuration(v.cfg.MaxLifetime)))
	}
	sub, err := c.str("sub")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(sub) == "" {
		return nil, invalid("token has no subject (sub), the analyst's id")
	}
	roles, err := c.roles(v.cfg.RolesClaim)
	if err != nil {
		return nil, err
	}
	jti, err := c.str("jti")
	if err != nil {
		return nil, err
	}
	return &Analyst{ID: sub, Roles: roles, TokenID: jti, Issuer: iss, Expires: exp}, nil
}

// stamp formats t in UTC, as a time of day alone when it falls on the same
// day as ref (the time it is compared with), so "expired at
// 2026-12-06T12:00:00Z (now 12:05:00Z)" reads at a glance.
func stamp(t, ref time.Time) string {
	t, ref = t.UTC(), ref.UTC()
	if !t.Equal(ref) && t.YearDay() == ref.YearDay() && t.Year() == ref.Year() {
		return t.Format("15:04:05Z")
	}
	return t.Format(time.RFC3339)
}

// shortDuration prints 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
