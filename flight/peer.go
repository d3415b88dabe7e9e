package flight

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/spiffe/go-spiffe/v2/spiffegrpc/grpccredentials"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ServerCredentials wraps an mTLS server configuration for Server.Serve.
//
// It exists because go-spiffe's tlsconfig.MTLSServerConfig verifies client
// SVIDs in a VerifyPeerCertificate callback with ClientAuth set to
// RequireAnyClientCert, so crypto/tls never fills VerifiedChains and a plain
// credentials.NewTLS(cfg) gives the server no way to tell a verified client
// certificate from an unverified one. ServerCredentials refuses a
// configuration that does not both require and verify client certificates,
// and records the SPIFFE ID of the (by then verified) client leaf on the
// connection. A handshake whose client leaf has no SPIFFE ID fails.
func ServerCredentials(cfg *tls.Config) (credentials.TransportCredentials, error) {
	if cfg == nil {
		return nil, errors.New("flight server credentials: tls config is nil")
	}
	verifies := cfg.VerifyPeerCertificate != nil || cfg.VerifyConnection != nil
	switch {
	case cfg.ClientAuth == tls.RequireAndVerifyClientCert:
	case cfg.ClientAuth == tls.RequireAnyClientCert && verifies:
	default:
		return nil, fmt.Errorf("flight server credentials: tls config must require and verify client certificates (client auth is %v, verify callback set: %t)", cfg.ClientAuth, verifies)
	}
	return verifiedCreds{TransportCredentials: credentials.NewTLS(cfg)}, nil
}

// verifiedCreds marks connections whose client certificate the TLS
// configuration verified.
type verifiedCreds struct {
	credentials.TransportCredentials
}

func (c verifiedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		return nil, nil, err
	}
	tlsInfo, ok := info.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.PeerCertificates) == 0 {
		_ = conn.Close()
		return nil, nil, errors.New("flight server: client presented no certificate")
	}
	id, err := x509svid.IDFromCert(tlsInfo.State.PeerCertificates[0])
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("flight server: client certificate has no SPIFFE ID: %w", err)
	}
	return conn, verifiedInfo{TLSInfo: tlsInfo, id: id}, nil
}

func (c verifiedCreds) Clone() credentials.TransportCredentials {
	return verifiedCreds{TransportCredentials: c.TransportCredentials.Clone()}
}

type verifiedInfo struct {
	credentials.TLSInfo
	id spiffeid.ID
}

// PeerID returns the verified SPIFFE ID of the gRPC peer of ctx. It accepts
// three kinds of transport credentials: ServerCredentials, go-spiffe's
// grpccredentials (mTLS variants), and plain TLS credentials whose config
// made crypto/tls verify the client chain (VerifiedChains set). Anything else
// (no TLS, or a client certificate nobody verified) yields an error.
func PeerID(ctx context.Context) (spiffeid.ID, error) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return spiffeid.ID{}, errors.New("peer has no transport security")
	}
	if vi, ok := p.AuthInfo.(verifiedInfo); ok {
		return vi.id, nil
	}
	if id, ok := grpccredentials.PeerIDFromPeer(p); ok {
		return id, nil
	}
	tlsInfo, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return spiffeid.ID{}, fmt.Errorf("peer transport %q is not TLS", p.AuthInfo.AuthType())
	}
	chains := tlsInfo.State.VerifiedChains
	if len(chains) == 0 || len(chains[0]) == 0 {
		return spiffeid.ID{}, errors.New("peer certificate was not verified")
	}
	id, err := x509svid.IDFromCert(chains[0][0])
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("peer certificate has no SPIFFE ID: %w", err)
	}
	return id, nil
}
