package coordinator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
)

// writeServerCert writes a self-signed certificate for 127.0.0.1 and its
// key to dir and returns their paths and the certificate.
func writeServerCert(t *testing.T, dir string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coordinator api"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "api.pem"), filepath.Join(dir, "api-key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

// TestHTTPSAPI serves the API over TLS on loopback and checks that a
// client trusting its certificate gets answers, while a client that does
// not, or that speaks plain HTTP, gets none.
func TestHTTPSAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td := spiffeid.RequireTrustDomainFromString("example.org")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td.Name(), OutDir: dir, Sites: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	cp, kp, cert := writeServerCert(t, dir)
	serverTLS, err := httpTLS(&config.HTTPTLS{Cert: cp, Key: kp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpTLS(&config.HTTPTLS{Cert: cp, Key: filepath.Join(dir, "missing.pem")}); err == nil || !strings.Contains(err.Error(), "tls: load") {
		t.Errorf("missing key: err = %v, want one naming tls", err)
	}
	ccert, ckey := certs.Paths(dir, certs.CoordinatorName)
	src, err := certs.LoadFiles(ccert, ckey, filepath.Join(dir, certs.BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idA, _ := certs.SiteID(td, "a")
	ready := make(chan net.Addr, 1)
	c, err := New(Config{
		Listener: lis, HTTPTLS: serverTLS, Identity: src,
		Sites:          []Site{{Name: "a", Addr: "127.0.0.1:1", ID: idA}},
		AuditPath:      filepath.Join(dir, "coordinator.log"),
		CatalogRefresh: -1,
		Ready:          func(a net.Addr) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	addr := (<-ready).String()

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := trusting.Get("https://" + addr + PathLivez)
	if err != nil {
		t.Fatalf("https with the server's CA: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("https %s = %d (tls %v), want 200 over TLS", PathLivez, resp.StatusCode, resp.TLS != nil)
	}

	untrusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}}}
	if resp, err := untrusting.Get("https://" + addr + PathLivez); err == nil {
		_ = resp.Body.Close()
		t.Error("a client not trusting the certificate was answered")
	}
	resp, err = http.Get("http://" + addr + PathLivez)
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was answered 200 by the HTTPS API")
		}
	}
}
