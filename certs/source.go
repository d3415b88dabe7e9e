package certs

import (
	"fmt"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// Source is where a component gets its identity and the bundle it trusts:
// files today, the SPIRE Workload API or Vault PKI later.
type Source interface {
	x509svid.Source
	x509bundle.Source
	// ID is the SPIFFE ID of this component's own SVID.
	ID() spiffeid.ID
}

// FileSource is a Source read once from PEM files. It trusts exactly one
// trust domain: that of its own SVID.
type FileSource struct {
	svid   *x509svid.SVID
	bundle *x509bundle.Bundle
}

var _ Source = (*FileSource)(nil)

// LoadFiles reads an X.509-SVID (certificate chain and PKCS#8 key) and the
// trust bundle of the SVID's trust domain. Errors name the file that was
// missing or malformed. An empty bundle is an error: it would make every
// handshake fail with a confusing reason.
func LoadFiles(certPath, keyPath, bundlePath string) (*FileSource, error) {
	svid, err := x509svid.Load(certPath, keyPath)
	if err != nil {
		// go-spiffe says which of the two it could not read or parse and
		// includes the path for read errors; name both for parse errors.
		return nil, fmt.Errorf("load SVID (cert %s, key %s): %w", certPath, keyPath, err)
	}
	td := svid.ID.TrustDomain()
	bundle, err := x509bundle.Load(td, bundlePath)
	if err != nil {
		return nil, fmt.Errorf("load trust bundle %s: %w", bundlePath, err)
	}
	if bundle.Empty() {
		return nil, fmt.Errorf("load trust bundle %s: no certificates in file", bundlePath)
	}
	return &FileSource{svid: svid, bundle: bundle}, nil
}

// ID is the SPIFFE ID of the loaded SVID.
func (s *FileSource) ID() spiffeid.ID { return s.svid.ID }

// GetX509SVID implements x509svid.Source.
func (s *FileSource) GetX509SVID() (*x509svid.SVID, error) { return s.svid, nil }

// GetX509BundleForTrustDomain implements x509bundle.Source. It only knows the
// bundle of its own trust domain; peers from any other trust domain fail
// verification with an error naming both.
func (s *FileSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	if td != s.bundle.TrustDomain() {
		return nil, fmt.Errorf("no trust bundle for trust domain %q (this source trusts only %q)", td, s.bundle.TrustDomain())
	}
	return s.bundle, nil
}
