package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ServerTLS is an mTLS server config that presents src's SVID, requires a
// client SVID that chains to src's bundle, and accepts only clients whose
// SPIFFE ID is in allowed. With no allowed IDs every client is refused.
// A refused handshake fails on the server with an error that starts
// "certs: reject client" and says why; the client only sees a TLS alert.
func ServerTLS(src Source, allowed ...spiffeid.ID) *tls.Config {
	ids := append([]spiffeid.ID(nil), allowed...)
	cfg := tlsconfig.MTLSServerConfig(src, src, explain(tlsconfig.AuthorizeOneOf(ids...), ids))
	return finish(cfg, "client")
}

// ClientTLS is an mTLS client config that presents src's SVID and accepts
// only a server whose SVID chains to src's bundle and whose SPIFFE ID equals
// want. A refused handshake fails with an error that starts
// "certs: reject server" and says why.
func ClientTLS(src Source, want spiffeid.ID) *tls.Config {
	cfg := tlsconfig.MTLSClientConfig(src, src, explain(tlsconfig.AuthorizeID(want), []spiffeid.ID{want}))
	return finish(cfg, "server")
}

// explain adds the allow-list to go-spiffe's "unexpected ID" error, so that
// whoever reads the failure knows what would have been accepted.
func explain(authorize tlsconfig.Authorizer, allowed []spiffeid.ID) tlsconfig.Authorizer {
	return func(id spiffeid.ID, chains [][]*x509.Certificate) error {
		if err := authorize(id, chains); err != nil {
			return fmt.Errorf("%w (allowed: %s)", err, idList(allowed))
		}
		return nil
	}
}

// finish raises the floor to TLS 1.3 (every fedmesh endpoint speaks it) and
// prefixes verification failures with the peer's role.
func finish(cfg *tls.Config, role string) *tls.Config {
	cfg.MinVersion = tls.VersionTLS13
	verify := cfg.VerifyPeerCertificate
	cfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return fmt.Errorf("certs: reject %s: no certificate presented", role)
		}
		if err := verify(raw, chains); err != nil {
			return fmt.Errorf("certs: reject %s: %w", role, err)
		}
		return nil
	}
	return cfg
}

func idList(ids []spiffeid.ID) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
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
