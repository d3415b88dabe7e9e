package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ServerTLS is an mTLS server config that presents src's SVID, requires a
// client SVID that chains to src's bundle, and accepts only clients whose
// SPIFFE ID is in allowed. With no allowed IDs every client is refused.
// A refused handshake fails on the server with a *RejectError whose text
// starts "certs: reject client" and says why; the client only sees a TLS
// alert.
func ServerTLS(src Source, allowed ...spiffeid.ID) *tls.Config {
	return ServerTLSAllow(src, AllowIDs(allowed...))
}

// ServerTLSAllow is ServerTLS with an allow-list of exact IDs and
// trust-domain prefixes. src is asked for its SVID and bundles on every
// handshake, so a rotating src rotates new connections.
func ServerTLSAllow(src Source, allow Allow) *tls.Config {
	cfg := tlsconfig.MTLSServerConfig(src, src, allow.Authorize)
	return finish(cfg, "client")
}

// ClientTLS is an mTLS client config that presents src's SVID and accepts
// only a server whose SVID chains to src's bundle and whose SPIFFE ID equals
// want. A refused handshake fails with a *RejectError whose text starts
// "certs: reject server" and says why.
func ClientTLS(src Source, want spiffeid.ID) *tls.Config {
	cfg := tlsconfig.MTLSClientConfig(src, src, AllowIDs(want).Authorize)
	return finish(cfg, "server")
}

// RejectError is a peer certificate this end refused during the handshake.
type RejectError struct {
	Role string // "client" or "server": the peer's role
	// PeerID is the SPIFFE ID the peer's leaf claims: unverified, for logs
	// and audit only; empty if the leaf had none or did not parse.
	PeerID string
	Err    error
}

func (e *RejectError) Error() string { return fmt.Sprintf("certs: reject %s: %v", e.Role, e.Err) }
func (e *RejectError) Unwrap() error { return e.Err }

// Reason classifies the refusal for logs and audit: "no_certificate",
// "not_allowed" (verified, but not on the allow-list), "expired" (or not
// yet valid), or "untrusted" (no bundle for its trust domain, or a chain
// that does not verify).
func (e *RejectError) Reason() string {
	var na *NotAllowedError
	var inv x509.CertificateInvalidError
	switch {
	case errors.Is(e.Err, errNoCertificate):
		return "no_certificate"
	case errors.As(e.Err, &na):
		return "not_allowed"
	case errors.As(e.Err, &inv) && inv.Reason == x509.Expired:
		return "expired"
	}
	return "untrusted"
}

var errNoCertificate = errors.New("no certificate presented")

// finish raises the floor to TLS 1.3 (every fedmesh endpoint speaks it) and
// turns verification failures into *RejectError naming the peer's role.
func finish(cfg *tls.Config, role string) *tls.Config {
	cfg.MinVersion = tls.VersionTLS13
	verify := cfg.VerifyPeerCertificate
	cfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return &RejectError{Role: role, Err: errNoCertificate}
		}
		if err := verify(raw, chains); err != nil {
			re := &RejectError{Role: role, Err: err}
			if leaf, perr := x509.ParseCertificate(raw[0]); perr == nil {
				if id, ierr := x509svid.IDFromCert(leaf); ierr == nil {
					re.PeerID = id.String()
				}
			}
			return re
		}
		return nil
	}
	return cfg
}

// PeerIDFromTLS returns the SPIFFE ID of the peer of a completed handshake.
// The ID is verified only if the connection was set up with ServerTLS or
// ClientTLS, whose handshake fails unless the peer's SVID chains to the
// trusted bundle; this function itself only reads the leaf's URI SAN.
func PeerIDFromTLS(cs tls.ConnectionState) (spiffeid.ID, error) {
	if !cs.HandshakeComplete {
		return spiffeid.ID{}, errors.New("peer SPIFFE ID: TLS handshake not complete")
	}
	if len(cs.PeerCertificates) == 0 {
		return spiffeid.ID{}, errors.New("peer SPIFFE ID: peer presented no certificate")
	}
	id, err := x509svid.IDFromCert(cs.PeerCertificates[0])
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("peer SPIFFE ID: %w", err)
	}
	return id, nil
}

// PeerID returns the SPIFFE ID of the caller of a gRPC server handler (or
// the server, from a client's peer.Peer context). It fails if the
// connection is not TLS.
func PeerID(ctx context.Context) (spiffeid.ID, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return spiffeid.ID{}, errors.New("peer SPIFFE ID: no gRPC peer in context")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return spiffeid.ID{}, fmt.Errorf("peer SPIFFE ID: connection from %s is not TLS (auth info %T)", p.Addr, p.AuthInfo)
	}
	return PeerIDFromTLS(info.State)
}
