package fedctl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// client returns the HTTP client for the coordinator: with --ca, one that
// trusts only that CA (PEM) for an https coordinator; else the default
// client, which trusts the system pool.
func (cf *coordFlags) client() (*http.Client, error) {
	if cf.ca == "" {
		return http.DefaultClient, nil
	}
	b, err := os.ReadFile(cf.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", cf.ca)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}
