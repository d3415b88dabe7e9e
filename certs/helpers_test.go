package certs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// domain is an initialized dev trust domain in a temp dir.
type domain struct {
	dir string
	ca  *DevCA
	td  spiffeid.TrustDomain
}

func newDomain(t *testing.T, td string, now func() time.Time, ttl time.Duration, sites ...string) domain {
	t.Helper()
	dir := t.TempDir()
	ca, err := InitDevCA(DevCAOptions{TrustDomain: td, OutDir: dir, Sites: sites, TTL: ttl, Now: now})
	if err != nil {
		t.Fatalf("InitDevCA(%s): %v", td, err)
	}
	return domain{dir: dir, ca: ca, td: ca.TrustDomain()}
}

func (d domain) bundlePath() string { return filepath.Join(d.dir, BundleFile) }

// source loads the SVID <name>.pem/<name>-key.pem of this domain.
func (d domain) source(t *testing.T, name string) *FileSource {
	t.Helper()
	cert, key := Paths(d.dir, name)
	src, err := LoadFiles(cert, key, d.bundlePath())
	if err != nil {
		t.Fatalf("LoadFiles(%s): %v", name, err)
	}
	return src
}

func (d domain) siteID(t *testing.T, site string) spiffeid.ID {
	t.Helper()
	id, err := SiteID(d.td, site)
	if err != nil {
		t.Fatalf("SiteID(%s): %v", site, err)
	}
	return id
}

// trustingSource presents one SVID but trusts several trust domains. It lets
// a foreign client accept our server, so that the test exercises the
// server's own refusal rather than the client's.
type trustingSource struct {
	Source
	set *x509bundle.Set
}

func (s trustingSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	return s.set.GetX509BundleForTrustDomain(td)
}
