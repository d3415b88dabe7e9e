package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
)

// OpenIdentity builds the identity source of a validated Identity. A
// returned certs.Runner must be run for the component's lifetime (files
// reloaded, SVIDs renewed). Errors name the identity setting at fault.
func (id Identity) OpenIdentity(ctx context.Context, logger *slog.Logger) (certs.Source, error) {
	switch id.Source {
	case "", "files":
		fed := map[spiffeid.TrustDomain]string{}
		for i, fb := range id.FederatedBundles {
			td, err := spiffeid.TrustDomainFromString(fb.TrustDomain)
			if err != nil {
				return nil, fmt.Errorf("identity.federated_bundles[%d]: %w", i, err)
			}
			fed[td] = fb.Bundle
		}
		src, err := certs.OpenFiles(certs.FileOptions{Cert: id.Cert, Key: id.Key, Bundle: id.Bundle, Federated: fed,
			Interval: time.Duration(id.ReloadInterval), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		return src, nil
	case "spire":
		var want spiffeid.ID
		if id.SPIFFEID != "" {
			var err error
			if want, err = spiffeid.FromString(id.SPIFFEID); err != nil {
				return nil, fmt.Errorf("identity.spiffe_id: %w", err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		src, err := certs.OpenSPIRE(wctx, certs.SPIREOptions{Socket: id.SPIRE.Socket, ID: want, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("identity.spire: %w", err)
		}
		return src, nil
	case "vault":
		v := id.Vault
		want, err := spiffeid.FromString(id.SPIFFEID)
		if err != nil {
			return nil, fmt.Errorf("identity.spiffe_id: %w", err)
		}
		token, err := certs.ReadVaultToken(v.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("identity.vault.token_file: %w", err)
		}
		hc := &http.Client{Timeout: 30 * time.Second}
		if v.CACert != "" {
			pem, err := os.ReadFile(v.CACert)
			if err != nil {
				return nil, fmt.Errorf("identity.vault.ca_cert: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("identity.vault.ca_cert: no certificates in %s", v.CACert)
			}
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		src, err := certs.OpenVault(ctx, certs.VaultOptions{Address: v.Address, Token: token, Mount: v.Mount, Role: v.Role,
			ID: want, TTL: time.Duration(v.TTL), HTTPClient: hc, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("identity.vault: %w", err)
		}
		return src, nil
	}
	return nil, fmt.Errorf("identity.source: unknown source %q", id.Source)
}
