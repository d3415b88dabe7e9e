package flight

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
)

// testPKI is a throwaway trust domain: one CA and SVIDs issued from it.
// Package certs owns real identity sources; tests only need something
// go-spiffe accepts.
type testPKI struct {
	td     spiffeid.TrustDomain
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	bundle *x509bundle.Bundle
	serial int64
}

var (
	coordinatorID = spiffeid.RequireFromString("spiffe://fedmesh.test/coordinator")
	intruderID    = spiffeid.RequireFromString("spiffe://fedmesh.test/intruder")
)

func siteID(site string) spiffeid.ID {
	return spiffeid.RequireFromPath(spiffeid.RequireTrustDomainFromString("fedmesh.test"), "/site/"+site)
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate CA key: %v", err)
	}
	td := spiffeid.RequireTrustDomainFromString("fedmesh.test")
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fedmesh test CA"},
		URIs:                  []*url.URL{td.ID().URL()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse CA: %v", err)
	}
	return &testPKI{td: td, ca: ca, caKey: key, bundle: x509bundle.FromX509Authorities(td, []*x509.Certificate{ca}), serial: 1}
}

// svid issues an X509-SVID for id.
func (p *testPKI) svid(t *testing.T, id spiffeid.ID) *x509svid.SVID {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key for %s: %v", id, err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		URIs:         []*url.URL{id.URL()},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatalf("issue SVID for %s: %v", id, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse SVID for %s: %v", id, err)
	}
	return &x509svid.SVID{ID: id, Certificates: []*x509.Certificate{leaf}, PrivateKey: key}
}

// serverCreds are the site's credentials: present the site SVID, accept
// only the given client IDs.
func (p *testPKI) serverCreds(t *testing.T, site string, allowed ...spiffeid.ID) credentials.TransportCredentials {
	t.Helper()
	cfg := tlsconfig.MTLSServerConfig(p.svid(t, siteID(site)), p.bundle, tlsconfig.AuthorizeOneOf(allowed...))
	creds, err := ServerCredentials(cfg)
	if err != nil {
		t.Fatalf("server credentials: %v", err)
	}
	return creds
}

// clientTLS is the coordinator's TLS config for one site: present the
// client SVID, accept only the site's ID.
func (p *testPKI) clientTLS(t *testing.T, client spiffeid.ID, serverID spiffeid.ID) *tls.Config {
	t.Helper()
	return tlsconfig.MTLSClientConfig(p.svid(t, client), p.bundle, tlsconfig.AuthorizeID(serverID))
}
