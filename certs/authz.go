package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// NotAllowedError is the refusal of a peer whose SVID verified but whose
// SPIFFE ID is not on the allow-list.
type NotAllowedError struct {
	ID      spiffeid.ID
	Allowed string // the allow-list, as Allow.String writes it
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("unexpected ID %q (allowed: %s)", e.ID, e.Allowed)
}

// Allow is a peer allow-list: exact SPIFFE IDs and trust-domain path
// prefixes. The zero Allow authorizes nobody.
type Allow struct {
	IDs      []spiffeid.ID
	Prefixes []IDPrefix
}

// IDPrefix matches the IDs of a trust domain whose path is Path or lies
// below it, segment-wise: "/site" matches "/site/a" but not "/sites".
// An empty Path matches every ID of the trust domain.
type IDPrefix struct {
	TrustDomain spiffeid.TrustDomain
	Path        string
}

// AllowIDs is an allow-list of exact IDs.
func AllowIDs(ids ...spiffeid.ID) Allow { return Allow{IDs: append([]spiffeid.ID(nil), ids...)} }

// ParseAllow reads allow-list entries: "spiffe://td/path" allows exactly
// that ID, "spiffe://td/path/*" every ID at or below /path, "spiffe://td/*"
// every ID of the trust domain. Errors name the entry.
func ParseAllow(entries ...string) (Allow, error) {
	var a Allow
	var errs []error
	for i, e := range entries {
		if base, ok := strings.CutSuffix(e, "/*"); ok {
			id, err := spiffeid.FromString(base)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry %d %q: %w", i, e, err))
				continue
			}
			a.Prefixes = append(a.Prefixes, IDPrefix{TrustDomain: id.TrustDomain(), Path: id.Path()})
			continue
		}
		id, err := spiffeid.FromString(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d %q: %w (a prefix ends in /*)", i, e, err))
			continue
		}
		if id.Path() == "" {
			errs = append(errs, fmt.Errorf("entry %d %q: a trust domain alone allows nobody; write %s/* to allow all of it", i, e, e))
			continue
		}
		a.IDs = append(a.IDs, id)
	}
	return a, errors.Join(errs...)
}

// Empty reports whether the list allows nobody.
func (a Allow) Empty() bool { return len(a.IDs) == 0 && len(a.Prefixes) == 0 }

// Match reports whether id is allowed.
func (a Allow) Match(id spiffeid.ID) bool {
	for _, want := range a.IDs {
		if id == want {
			return true
		}
	}
	for _, p := range a.Prefixes {
		if id.TrustDomain() != p.TrustDomain {
			continue
		}
		if p.Path == "" || id.Path() == p.Path || strings.HasPrefix(id.Path(), p.Path+"/") {
			return true
		}
	}
	return false
}

// Authorize is a tlsconfig.Authorizer: nil if id is allowed, otherwise an
// *NotAllowedError that names the ID and the list.
func (a Allow) Authorize(id spiffeid.ID, _ [][]*x509.Certificate) error {
	if a.Match(id) {
		return nil
	}
	return &NotAllowedError{ID: id, Allowed: a.String()}
}

// String lists the entries as ParseAllow reads them.
func (a Allow) String() string {
	var s []string
	for _, id := range a.IDs {
		s = append(s, id.String())
	}
	for _, p := range a.Prefixes {
		s = append(s, "spiffe://"+p.TrustDomain.Name()+p.Path+"/*")
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
