package certs

import (
	"fmt"
	"regexp"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// siteNameRE is deliberately narrower than a SPIFFE path segment: site names
// also become file names and appear in config keys.
var siteNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidateSiteName reports whether site is an acceptable site name
// (^[a-z0-9][a-z0-9_-]*$). The error names the bad value.
func ValidateSiteName(site string) error {
	if !siteNameRE.MatchString(site) {
		return fmt.Errorf("site name %q is invalid: must match %s", site, siteNameRE)
	}
	return nil
}

// CoordinatorID is the SPIFFE ID of the coordinator in td
// (spiffe://<td>/coordinator).
func CoordinatorID(td spiffeid.TrustDomain) spiffeid.ID {
	id, err := spiffeid.FromSegments(td, "coordinator")
	if err != nil {
		// A constant, valid segment cannot fail; a zero trust domain can,
		// and a zero ID matches nothing, so authorization stays closed.
		return spiffeid.ID{}
	}
	return id
}

// SiteID is the SPIFFE ID of the agent of site in td
// (spiffe://<td>/site/<site>). It fails if site is not a valid site name or
// td is zero.
func SiteID(td spiffeid.TrustDomain, site string) (spiffeid.ID, error) {
	if err := ValidateSiteName(site); err != nil {
		return spiffeid.ID{}, err
	}
	if td.IsZero() {
		return spiffeid.ID{}, fmt.Errorf("site %q: trust domain is empty", site)
	}
	id, err := spiffeid.FromSegments(td, "site", site)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("site %q: build SPIFFE ID: %w", site, err)
	}
	return id, nil
}
