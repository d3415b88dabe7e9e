package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// File names written by InitDevCA into its output directory.
const (
	BundleFile = "bundle.pem"
	CAKeyFile  = "ca-key.pem"
	// CoordinatorName is the name passed to Issue for the coordinator SVID:
	// coordinator.pem and coordinator-key.pem.
	CoordinatorName = "coordinator"
)

// DefaultSVIDTTL is the SVID lifetime used when a TTL of zero is given.
const DefaultSVIDTTL = 24 * time.Hour

// caLifetimeFactor makes the CA outlive the SVIDs it issues at init, so they
// can be re-issued without re-distributing the bundle.
const caLifetimeFactor = 10

// DevCAOptions configures InitDevCA.
type DevCAOptions struct {
	TrustDomain string           // e.g. "example.org"
	OutDir      string           // created if missing
	Sites       []string         // each becomes spiffe://<td>/site/<name>
	TTL         time.Duration    // SVID lifetime; 0 means DefaultSVIDTTL. The CA lives caLifetimeFactor× as long.
	Now         func() time.Time // nil means time.Now
	Force       bool             // overwrite an existing bundle.pem (and everything else)
}

// DevCA is a development certificate authority for one trust domain, with
// its certificate and key held in memory.
type DevCA struct {
	td   spiffeid.TrustDomain
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	now  func() time.Time
}

// SiteFileName is the name passed to Issue for a site SVID: site-<site>.pem
// and site-<site>-key.pem.
func SiteFileName(site string) string { return "site-" + site }

// Paths returns the certificate and key paths that Issue writes for name in
// dir.
func Paths(dir, name string) (certPath, keyPath string) {
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

func (o DevCAOptions) validate() (spiffeid.TrustDomain, error) {
	var errs []error
	var td spiffeid.TrustDomain
	if o.TrustDomain == "" {
		errs = append(errs, errors.New("trust domain: must be set"))
	} else if parsed, err := spiffeid.TrustDomainFromString(o.TrustDomain); err != nil {
		errs = append(errs, fmt.Errorf("trust domain %q: %w", o.TrustDomain, err))
	} else {
		td = parsed
	}
	if o.OutDir == "" {
		errs = append(errs, errors.New("output directory: must be set"))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("ttl %s: must not be negative", o.TTL))
	}
	seen := make(map[string]int, len(o.Sites))
	for i, site := range o.Sites {
		if err := ValidateSiteName(site); err != nil {
			errs = append(errs, fmt.Errorf("sites[%d]: %w", i, err))
			continue
		}
		if j, dup := seen[site]; dup {
			errs = append(errs, fmt.Errorf("sites[%d]: site name %q duplicates sites[%d]", i, site, j))
			continue
		}
		seen[site] = i
	}
	return td, errors.Join(errs...)
}

// InitDevCA creates a new CA for opts.TrustDomain and writes the bundle, the
// CA key and one SVID for the coordinator and for every site into
// opts.OutDir (layout in the package doc). It reports every invalid option
// at once. It refuses to overwrite an existing bundle.pem unless opts.Force
// is set; bundle.pem is written last, so its presence marks a complete run.
func InitDevCA(opts DevCAOptions) (*DevCA, error) {
	td, err := opts.validate()
	if err != nil {
		return nil, fmt.Errorf("init dev CA: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultSVIDTTL
	}
	bundlePath := filepath.Join(opts.OutDir, BundleFile)
	if !opts.Force {
		if _, err := os.Stat(bundlePath); err == nil {
			return nil, fmt.Errorf("init dev CA: %s already exists; set force to overwrite it and every key in %s", bundlePath, opts.OutDir)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("init dev CA: check %s: %w", bundlePath, err)
		}
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("init dev CA: create output directory: %w", err)
	}

	ca, err := newDevCA(td, now, caLifetimeFactor*ttl)
	if err != nil {
		return nil, fmt.Errorf("init dev CA for %q: %w", td, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("init dev CA: encode CA key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(opts.OutDir, CAKeyFile), pemBlock("PRIVATE KEY", keyDER), 0o600); err != nil {
		return nil, fmt.Errorf("init dev CA: %w", err)
	}
	if _, _, err := ca.Issue(CoordinatorID(td), ttl, opts.OutDir, CoordinatorName); err != nil {
		return nil, fmt.Errorf("init dev CA: %w", err)
	}
	for _, site := range opts.Sites {
		id, err := SiteID(td, site)
		if err != nil {
			return nil, fmt.Errorf("init dev CA: %w", err)
		}
		if _, _, err := ca.Issue(id, ttl, opts.OutDir, SiteFileName(site)); err != nil {
			return nil, fmt.Errorf("init dev CA: site %q: %w", site, err)
		}
	}
	if err := writeFileAtomic(bundlePath, pemBlock("CERTIFICATE", ca.cert.Raw), 0o644); err != nil {
		return nil, fmt.Errorf("init dev CA: %w", err)
	}
	return ca, nil
}

func newDevCA(td spiffeid.TrustDomain, now func() time.Time, lifetime time.Duration) (*DevCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	start := now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"fedmesh dev CA"}, CommonName: td.Name()},
		URIs:                  []*url.URL{td.ID().URL()},
		NotBefore:             start.Add(-clockSkew),
		NotAfter:              start.Add(lifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &DevCA{td: td, cert: cert, key: key, now: now}, nil
}

// LoadDevCA loads the CA written by InitDevCA from dir (bundle.pem and
// ca-key.pem). The returned CA uses time.Now; see SetClock.
func LoadDevCA(dir string) (*DevCA, error) {
	certPath := filepath.Join(dir, BundleFile)
	keyPath := filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("load dev CA: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("load dev CA: %s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("load dev CA: %s: certificate is not a CA", certPath)
	}
	if len(cert.URIs) != 1 {
		return nil, fmt.Errorf("load dev CA: %s: want exactly one trust domain URI SAN, have %d", certPath, len(cert.URIs))
	}
	td, err := spiffeid.TrustDomainFromURI(cert.URIs[0])
	if err != nil {
		return nil, fmt.Errorf("load dev CA: %s: trust domain: %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load dev CA: %w", err)
	}
	key, err := parseECKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load dev CA: %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("load dev CA: %s does not match the certificate in %s", keyPath, certPath)
	}
	return &DevCA{td: td, cert: cert, key: key, now: time.Now}, nil
}

// TrustDomain is the trust domain the CA issues for.
func (ca *DevCA) TrustDomain() spiffeid.TrustDomain { return ca.td }

// Certificate is the CA certificate (the only entry of the trust bundle).
func (ca *DevCA) Certificate() *x509.Certificate { return ca.cert }

// Bundle is the trust bundle for the CA's trust domain.
func (ca *DevCA) Bundle() *x509bundle.Bundle {
	return x509bundle.FromX509Authorities(ca.td, []*x509.Certificate{ca.cert})
}

// SetClock replaces the clock Issue uses for validity periods; nil restores
// time.Now. Not safe to call concurrently with Issue.
func (ca *DevCA) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	ca.now = now
}
