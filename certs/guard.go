package certs

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"

	"google.golang.org/grpc/credentials"
)

// Rejection is a connection a server refused during the handshake.
type Rejection struct {
	Remote string // the peer's network address
	// PeerID is the SPIFFE ID the peer's certificate claims (unverified;
	// empty when it presented none or spoke no TLS).
	PeerID string
	// Reason is one of RejectError's reasons, "not_tls" (plaintext or
	// another protocol), or "peer_aborted" (the peer closed or refused us:
	// not a denial by this end).
	Reason string
	Err    error
}

// Denied reports whether this end refused the peer (as opposed to the peer
// giving up): the refusals worth an audit record.
func (r Rejection) Denied() bool { return r.Reason != "peer_aborted" }

// GuardServer wraps server transport credentials so that every failed
// handshake is reported to onReject, classified, with the peer's claimed
// SPIFFE ID where it showed one. go-spiffe's verification runs inside
// crypto/tls, where the caller's audit log cannot be reached; this is
// where the refusal surfaces with its cause. onReject runs on the
// connection's goroutine before the connection is dropped.
func GuardServer(creds credentials.TransportCredentials, onReject func(Rejection)) credentials.TransportCredentials {
	return guarded{TransportCredentials: creds, onReject: onReject}
}

type guarded struct {
	credentials.TransportCredentials
	onReject func(Rejection)
}

func (g guarded) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := g.TransportCredentials.ServerHandshake(raw)
	if err != nil && g.onReject != nil {
		g.onReject(classify(raw.RemoteAddr(), err))
	}
	return conn, info, err
}

func (g guarded) Clone() credentials.TransportCredentials {
	return guarded{TransportCredentials: g.TransportCredentials.Clone(), onReject: g.onReject}
}

func classify(addr net.Addr, err error) Rejection {
	r := Rejection{Err: err}
	if addr != nil {
		r.Remote = addr.String()
	}
	var re *RejectError
	var rh tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &re):
		r.PeerID, r.Reason = re.PeerID, re.Reason()
	case errors.As(err, &rh):
		r.Reason = "not_tls"
	case strings.Contains(err.Error(), "didn't provide a certificate"):
		// crypto/tls refuses before go-spiffe's callback runs and has no
		// sentinel for it.
		r.Reason = "no_certificate"
	case errors.As(err, &op) && op.Op == "remote error", errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		r.Reason = "peer_aborted"
	default:
		r.Reason = "handshake"
	}
	return r
}
