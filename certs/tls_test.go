package certs

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// handshakeResult is what each end of one real TLS connection observed.
type handshakeResult struct {
	serverErr, clientErr error
	serverSaw, clientSaw spiffeid.ID
}

// handshake runs one TLS connection over 127.0.0.1: the server completes the
// handshake and writes one byte, the client reads it. In TLS 1.3 the client's
// handshake finishes before the server has judged the client certificate,
// so a server refusal only reaches the client on its first read.
func handshake(t *testing.T, server, client *tls.Config) handshakeResult {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()

	type serverOut struct {
		id  spiffeid.ID
		err error
	}
	done := make(chan serverOut, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- serverOut{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- serverOut{err: err}
			return
		}
		id, err := PeerIDFromTLS(tc.ConnectionState())
		if err == nil {
			_, err = tc.Write([]byte{'x'})
		}
		done <- serverOut{id: id, err: err}
	}()

	var res handshakeResult
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), client)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		res.clientSaw, err = PeerIDFromTLS(conn.ConnectionState())
		if err == nil {
			_, err = io.ReadFull(conn, make([]byte, 1))
		}
		conn.Close()
	}
	res.clientErr = err
	out := <-done
	res.serverSaw, res.serverErr = out.id, out.err
	return res
}

func TestMTLSHandshake(t *testing.T) {
	t.Parallel()
	realNow := time.Now()
	good := newDomain(t, "example.org", nil, 0, "a", "b")
	evil := newDomain(t, "evil.org", nil, 0)
	rogue := newDomain(t, "example.org", nil, 0) // another CA claiming example.org
	stale := newDomain(t, "example.org", func() time.Time { return realNow.Add(-30 * 24 * time.Hour) }, time.Hour, "a")

	coord := CoordinatorID(good.td)
	siteA, siteB := good.siteID(t, "a"), good.siteID(t, "b")
	coordSrc, siteASrc, siteBSrc := good.source(t, CoordinatorName), good.source(t, "site-a"), good.source(t, "site-b")

	// A coordinator SVID that expired an hour ago, from a CA that is still valid.
	good.ca.SetClock(func() time.Time { return realNow.Add(-2 * time.Hour) })
	expCert, expKey, err := good.ca.Issue(coord, time.Hour, t.TempDir(), "expired-coordinator")
	good.ca.SetClock(nil)
	if err != nil {
		t.Fatal(err)
	}
	expiredCoord, err := LoadFiles(expCert, expKey, good.bundlePath())
	if err != nil {
		t.Fatal(err)
	}
	// evil.org's coordinator, willing to trust example.org so that only the
	// server's judgement is tested.
	evilCoord := trustingSource{
		Source: evil.source(t, CoordinatorName),
		set:    x509bundle.NewSet(evil.ca.Bundle(), good.ca.Bundle()),
	}
	rogueCert, rogueKey := Paths(rogue.dir, CoordinatorName)
	rogueCoord, err := LoadFiles(rogueCert, rogueKey, good.bundlePath())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		serverWant string // substring of the server's error; "" means success
		clientWant string // substring of the client's error; "" means success unless serverWant is set
	}{
		{name: "coordinator to allowed site", server: ServerTLS(siteASrc, coord), client: ClientTLS(coordSrc, siteA)},
		{name: "site accepts one of several", server: ServerTLS(siteASrc, siteB, coord), client: ClientTLS(coordSrc, siteA)},
		{
			name: "server refuses other id of same trust domain", server: ServerTLS(siteASrc, coord), client: ClientTLS(siteBSrc, siteA),
			serverWant: `certs: reject client: unexpected ID "spiffe://example.org/site/b" (allowed: spiffe://example.org/coordinator)`,
			clientWant: "bad certificate",
		},
		{
			name: "server refuses client of another trust domain", server: ServerTLS(siteASrc, coord), client: ClientTLS(evilCoord, siteA),
			serverWant: `certs: reject client: x509svid: could not get X509 bundle: no trust bundle for trust domain "evil.org"`,
		},
		{
			name: "server refuses client signed by a rogue CA for the same trust domain", server: ServerTLS(siteASrc, coord), client: ClientTLS(rogueCoord, siteA),
			serverWant: "certs: reject client: x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority",
		},
		{
			name: "server refuses expired client SVID", server: ServerTLS(siteASrc, coord), client: ClientTLS(expiredCoord, siteA),
			serverWant: "certificate has expired",
		},
		{
			name: "client refuses server with wrong id", server: ServerTLS(siteBSrc, coord), client: ClientTLS(coordSrc, siteA),
			clientWant: `certs: reject server: unexpected ID "spiffe://example.org/site/b" (allowed: spiffe://example.org/site/a)`,
			serverWant: "bad certificate",
		},
		{
			name:   "client refuses server whose whole trust domain expired",
			server: ServerTLS(stale.source(t, "site-a"), CoordinatorID(stale.td)), client: ClientTLS(stale.source(t, CoordinatorName), stale.siteID(t, "a")),
			clientWant: "certs: reject server: x509svid: could not verify leaf certificate: x509: certificate has expired",
		},
		{
			name: "empty allow-list refuses everyone", server: ServerTLS(siteASrc), client: ClientTLS(coordSrc, siteA),
			serverWant: "(allowed: none)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := handshake(t, tt.server, tt.client)
			t.Logf("server: %v; client: %v", res.serverErr, res.clientErr)
			if tt.serverWant == "" && tt.clientWant == "" {
				if res.serverErr != nil || res.clientErr != nil {
					t.Fatalf("handshake failed: server %v, client %v", res.serverErr, res.clientErr)
				}
				if res.serverSaw != coord {
					t.Errorf("server saw peer %s, want %s", res.serverSaw, coord)
				}
				if res.clientSaw != siteA {
					t.Errorf("client saw peer %s, want %s", res.clientSaw, siteA)
				}
				return
			}
			// A refusal on either end must fail both ends.
			if res.serverErr == nil || res.clientErr == nil {
				t.Fatalf("want both ends to fail, got server %v, client %v", res.serverErr, res.clientErr)
			}
			checkErr(t, "server", res.serverErr, tt.serverWant)
			checkErr(t, "client", res.clientErr, tt.clientWant)
		})
	}
}

func checkErr(t *testing.T, end string, err error, want string) {
	t.Helper()
	if want != "" && !strings.Contains(err.Error(), want) {
		t.Errorf("%s error %q does not contain %q", end, err, want)
	}
}

func TestPeerIDFromTLSRequiresHandshake(t *testing.T) {
	t.Parallel()
	_, err := PeerIDFromTLS(tls.ConnectionState{})
	if err == nil || !strings.Contains(err.Error(), "not complete") {
		t.Errorf("err = %v, want handshake-not-complete error", err)
	}
	_, err = PeerIDFromTLS(tls.ConnectionState{HandshakeComplete: true})
	if err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("err = %v, want no-certificate error", err)
	}
}
