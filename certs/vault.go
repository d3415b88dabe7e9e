package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// VaultOptions says how to get an SVID from Vault's PKI secrets engine.
type VaultOptions struct {
	Address string // https://vault.example:8200
	Token   string // a token whose policy may update <mount>/issue/<role>
	Mount   string // PKI mount path, default "pki"
	Role    string // a role allowing spiffe://<td>/* URI SANs
	ID      spiffeid.ID
	TTL     time.Duration // requested lifetime; 0 takes the role's
	// HTTPClient talks to Vault (default: one with a 30 s timeout; set it
	// to trust Vault's own TLS certificate).
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // default time.Now
}

// VaultSource is a Source whose SVID is issued by Vault's PKI engine with
// the component's SPIFFE ID as the URI SAN, and whose bundle is the PKI's
// CA. Run renews the SVID once two thirds of its lifetime (counted from
// when it was issued: Vault backdates NotBefore) have passed; a failed
// renewal keeps the current SVID and retries.
type VaultSource struct {
	o   VaultOptions
	log *slog.Logger
	cur atomic.Pointer[vaultState]
}

type vaultState struct {
	svid    *x509svid.SVID
	bundles *x509bundle.Set
	issued  time.Time // when we received it: Vault backdates NotBefore
}

var (
	_ Source = (*VaultSource)(nil)
	_ Runner = (*VaultSource)(nil)
)

// OpenVault issues the first SVID.
func OpenVault(ctx context.Context, o VaultOptions) (*VaultSource, error) {
	if o.Mount == "" {
		o.Mount = "pki"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	if o.ID.IsZero() {
		errs = append(errs, errors.New("SPIFFE ID must be set"))
	}
	if o.Role == "" {
		errs = append(errs, errors.New("role must be set"))
	}
	if o.Token == "" {
		errs = append(errs, errors.New("token must be set"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("vault identity at %s: %w", o.Address, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &VaultSource{o: o, log: log.With(logkey.Component, "certs.vault", logkey.Vault, o.Address, logkey.Role, o.Role)}
	st, err := s.issue(ctx)
	if err != nil {
		return nil, err
	}
	s.cur.Store(st)
	s.logIssued("SVID issued by Vault", st)
	return s, nil
}

// ID is the SPIFFE ID requested from Vault.
func (s *VaultSource) ID() spiffeid.ID { return s.o.ID }

// GetX509SVID implements x509svid.Source.
func (s *VaultSource) GetX509SVID() (*x509svid.SVID, error) { return s.cur.Load().svid, nil }

// GetX509BundleForTrustDomain implements x509bundle.Source: the PKI's CA
// for the SVID's trust domain.
func (s *VaultSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	set := s.cur.Load().bundles
	if b, ok := set.Get(td); ok {
		return b, nil
	}
	return nil, fmt.Errorf("no trust bundle for trust domain %q (this Vault source trusts %s)", td, tdList(set))
}

// Run renews the SVID before it expires, until ctx is done.
func (s *VaultSource) Run(ctx context.Context) error {
	for {
		st := s.cur.Load()
		leaf := st.svid.Certificates[0]
		start := st.issued
		if leaf.NotBefore.After(start) {
			start = leaf.NotBefore
		}
		wait := start.Add(leaf.NotAfter.Sub(start) * 2 / 3).Sub(s.o.Now())
		for {
			if wait < 0 {
				wait = 0
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			st, err := s.issue(ctx)
			if err == nil {
				s.cur.Store(st)
				s.logIssued("SVID renewed by Vault", st)
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			left := leaf.NotAfter.Sub(s.o.Now())
			wait = min(max(left/10, time.Second), 30*time.Second)
			s.log.Warn("renew SVID from Vault failed; keeping the current one", logkey.Err, err,
				logkey.Expires, leaf.NotAfter, logkey.RetryIn, wait)
		}
	}
}

func (s *VaultSource) logIssued(msg string, st *vaultState) {
	leaf := st.svid.Certificates[0]
	s.log.Info(msg, logkey.SPIFFEID, st.svid.ID.String(), logkey.Serial, leaf.SerialNumber.String(), logkey.Expires, leaf.NotAfter)
}

type vaultIssueResponse struct {
	Data struct {
		Certificate string   `json:"certificate"`
		IssuingCA   string   `json:"issuing_ca"`
		CAChain     []string `json:"ca_chain"`
		PrivateKey  string   `json:"private_key"`
	} `json:"data"`
	Errors []string `json:"errors"`
}

func (s *VaultSource) issue(ctx context.Context) (*vaultState, error) {
	body := map[string]any{
		"uri_sans":             s.o.ID.String(),
		"exclude_cn_from_sans": true,
		"private_key_format":   "pkcs8",
		"format":               "pem",
	}
	if s.o.TTL > 0 {
		body["ttl"] = s.o.TTL.String()
	}
	path := fmt.Sprintf("/v1/%s/issue/%s", strings.Trim(s.o.Mount, "/"), url.PathEscape(s.o.Role))
	var resp vaultIssueResponse
	if err := s.call(ctx, http.MethodPost, path, body, &resp); err != nil {
		return nil, err
	}
	d := resp.Data
	var chainPEM bytes.Buffer
	chainPEM.WriteString(d.Certificate)
	var roots []*x509.Certificate
	cas := d.CAChain
	if len(cas) == 0 && d.IssuingCA != "" {
		cas = []string{d.IssuingCA}
	}
	for _, p := range cas {
		c, err := firstCert(p)
		if err != nil {
			return nil, fmt.Errorf("vault %s: ca_chain: %w", path, err)
		}
		if isSelfSigned(c) {
			roots = append(roots, c)
			continue
		}
		chainPEM.WriteString("\n" + p)
	}
	if len(roots) == 0 {
		// An intermediate mount: trust the issuing CA itself.
		c, err := firstCert(d.IssuingCA)
		if err != nil {
			return nil, fmt.Errorf("vault %s: issuing_ca: %w", path, err)
		}
		roots = append(roots, c)
	}
	svid, err := x509svid.Parse(chainPEM.Bytes(), []byte(d.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("vault %s: issued certificate is not a usable SVID: %w", path, err)
	}
	if svid.ID != s.o.ID {
		return nil, fmt.Errorf("vault %s: issued SVID has ID %s, asked for %s", path, svid.ID, s.o.ID)
	}
	return &vaultState{svid: svid, bundles: x509bundle.NewSet(x509bundle.FromX509Authorities(s.o.ID.TrustDomain(), roots)), issued: s.o.Now()}, nil
}

func (s *VaultSource) call(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.o.Address, "/")+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("vault %s: %w", path, err)
	}
	req.Header.Set("X-Vault-Token", s.o.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("vault %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("vault %s: read response: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e vaultIssueResponse
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("vault %s: HTTP %d: %s", path, resp.StatusCode, strings.Join(e.Errors, "; "))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("vault %s: decode response: %w", path, err)
	}
	return nil
}

func firstCert(p string) (*x509.Certificate, error) {
	blk, _ := pem.Decode([]byte(p))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// ReadVaultToken reads a token file, or $VAULT_TOKEN when path is empty.
func ReadVaultToken(path string) (string, error) {
	if path == "" {
		if t := os.Getenv("VAULT_TOKEN"); t != "" {
			return t, nil
		}
		return "", errors.New("vault token: no token_file set and VAULT_TOKEN is empty")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("vault token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
