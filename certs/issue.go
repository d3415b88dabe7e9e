package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// clockSkew backdates NotBefore so that a peer whose clock is slightly behind
// still accepts a freshly issued certificate.
const clockSkew = time.Minute

// Issue creates an X.509-SVID for id, valid for ttl from the CA's clock (0
// means DefaultSVIDTTL, and never beyond the CA's own expiry), and writes
// <name>.pem (0644) and <name>-key.pem (0600) into dir, replacing existing
// files atomically. The SVID has id as its only URI SAN, the digital signature
// key usage and both client and server auth extended key usages. id must be in
// the CA's trust domain; name must be a plain file name.
func (ca *DevCA) Issue(id spiffeid.ID, ttl time.Duration, dir, name string) (certPath, keyPath string, err error) {
	if id.IsZero() {
		return "", "", errors.New("issue SVID: SPIFFE ID is empty")
	}
	if !id.MemberOf(ca.td) {
		return "", "", fmt.Errorf("issue SVID %q: not in trust domain %q of this CA", id, ca.td)
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", "", fmt.Errorf("issue SVID %q: file name %q must be a plain name without path separators", id, name)
	}
	if ttl < 0 {
		return "", "", fmt.Errorf("issue SVID %q: ttl %s must not be negative", id, ttl)
	}
	if ttl == 0 {
		ttl = DefaultSVIDTTL
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("issue SVID %q: generate key: %w", id, err)
	}
	serial, err := newSerial()
	if err != nil {
		return "", "", fmt.Errorf("issue SVID %q: %w", id, err)
	}
	start := ca.now()
	notAfter := start.Add(ttl)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"fedmesh"}},
		URIs:                  []*url.URL{id.URL()},
		NotBefore:             start.Add(-clockSkew),
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("issue SVID %q: sign certificate: %w", id, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("issue SVID %q: encode key: %w", id, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("issue SVID %q: create directory: %w", id, err)
	}
	certPath, keyPath = Paths(dir, name)
	// Key first: a certificate on disk without its key is worse than the
	// reverse, which the next Issue simply replaces.
	if err := writeFileAtomic(keyPath, pemBlock("PRIVATE KEY", keyDER), 0o600); err != nil {
		return "", "", fmt.Errorf("issue SVID %q: %w", id, err)
	}
	if err := writeFileAtomic(certPath, pemBlock("CERTIFICATE", der), 0o644); err != nil {
		return "", "", fmt.Errorf("issue SVID %q: %w", id, err)
	}
	return certPath, keyPath, nil
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return serial, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

// parseECKeyPEM deliberately never includes the key bytes in its errors.
func parseECKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY (PKCS#8) block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("malformed PKCS#8 private key")
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want ECDSA", parsed)
	}
	return key, nil
}

// writeFileAtomic writes data to a temporary file in the same directory with
// perm and renames it over path, so readers never see a partial key or
// certificate and a key file is never briefly world-readable.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: set mode: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
