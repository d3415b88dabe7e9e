package flight

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/spiffe/go-spiffe/v2/spiffegrpc/grpccredentials"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fedmesh/fedmesh/planner"
)

// peerRecorder answers every call and remembers who called.
type peerRecorder struct {
	calls atomic.Int32
	peer  atomic.Value // spiffeid.ID
}

func (p *peerRecorder) Serve(_ context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*Result, error) {
	p.calls.Add(1)
	p.peer.Store(peer)
	return &Result{Schema: resultSchema, Meta: ResultMeta{Site: sp.Site}}, nil
}

func TestServerPeerIDFromCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		creds    func(*testing.T, *testPKI) credentials.TransportCredentials
		wantCode codes.Code // OK means the handler runs and sees the coordinator's ID
	}{
		{name: "ServerCredentials over go-spiffe mTLS config", wantCode: codes.OK,
			creds: func(t *testing.T, p *testPKI) credentials.TransportCredentials {
				return p.serverCreds(t, "a", coordinatorID)
			}},
		{name: "go-spiffe grpccredentials", wantCode: codes.OK,
			creds: func(t *testing.T, p *testPKI) credentials.TransportCredentials {
				return grpccredentials.MTLSServerCredentials(p.svid(t, siteID("a")), p.bundle, tlsconfig.AuthorizeID(coordinatorID))
			}},
		{name: "crypto/tls verified chains", wantCode: codes.OK,
			creds: func(t *testing.T, p *testPKI) credentials.TransportCredentials {
				svid := p.svid(t, siteID("a"))
				pool := x509.NewCertPool()
				pool.AddCert(p.ca)
				return credentials.NewTLS(&tls.Config{
					MinVersion:   tls.VersionTLS12,
					ClientAuth:   tls.RequireAndVerifyClientCert,
					ClientCAs:    pool,
					Certificates: []tls.Certificate{{Certificate: [][]byte{svid.Certificates[0].Raw}, PrivateKey: svid.PrivateKey}},
				})
			}},
		// go-spiffe verifies in a callback, so crypto/tls reports no verified
		// chain: without ServerCredentials the server cannot trust the ID.
		{name: "bare NewTLS over go-spiffe mTLS config", wantCode: codes.Unauthenticated,
			creds: func(t *testing.T, p *testPKI) credentials.TransportCredentials {
				return credentials.NewTLS(tlsconfig.MTLSServerConfig(p.svid(t, siteID("a")), p.bundle, tlsconfig.AuthorizeID(coordinatorID)))
			}},
		{name: "server TLS that never asks for a client certificate", wantCode: codes.Unauthenticated,
			creds: func(t *testing.T, p *testPKI) credentials.TransportCredentials {
				return credentials.NewTLS(tlsconfig.TLSServerConfig(p.svid(t, siteID("a"))))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			rec := &peerRecorder{}
			srv := startServer(t, rec, tt.creds(t, pki), time.Second)
			client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))}})

			_, err := client.FanOut(context.Background(), map[string]*planner.SubPlan{"a": livePlan("a")})
			if tt.wantCode == codes.OK {
				if err != nil {
					t.Fatalf("FanOut: %v", err)
				}
				if got, _ := rec.peer.Load().(spiffeid.ID); got != coordinatorID {
					t.Errorf("handler saw peer %q, want %q", got, coordinatorID)
				}
				return
			}
			if se := asSiteError(t, err); se.Code != tt.wantCode {
				t.Errorf("FanOut error = %v (code %v), want %v", err, se.Code, tt.wantCode)
			}
			if n := rec.calls.Load(); n != 0 {
				t.Errorf("handler ran %d times for an unauthenticated peer", n)
			}
		})
	}
}

func TestTLSRefusesWrongParties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client func(*testing.T, *testPKI) *tls.Config
	}{
		{name: "client not on the site's allow-list",
			client: func(t *testing.T, p *testPKI) *tls.Config { return p.clientTLS(t, intruderID, siteID("a")) }},
		{name: "server is not the site the client expects",
			client: func(t *testing.T, p *testPKI) *tls.Config { return p.clientTLS(t, coordinatorID, siteID("b")) }},
		{name: "client SVID from another trust domain",
			client: func(t *testing.T, p *testPKI) *tls.Config {
				other := newTestPKI(t)
				return tlsconfig.MTLSClientConfig(other.svid(t, coordinatorID), p.bundle, tlsconfig.AuthorizeID(siteID("a")))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			rec := &peerRecorder{}
			srv := startServer(t, rec, pki.serverCreds(t, "a", coordinatorID), time.Second)
			client := newTestClient(t, []Target{{Site: "a", Addr: srv.addr, TLS: tt.client(t, pki)}})

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := client.FanOut(ctx, map[string]*planner.SubPlan{"a": livePlan("a")})
			if se := asSiteError(t, err); se.Site != "a" || se.Code != codes.Unavailable {
				t.Errorf("FanOut error = %v (code %v), want site a unavailable (handshake refused)", err, se.Code)
			}
			if n := rec.calls.Load(); n != 0 {
				t.Errorf("handler ran %d times for a refused connection", n)
			}
		})
	}
}

func TestPlaintextClientRefused(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	rec := &peerRecorder{}
	srv := startServer(t, rec, pki.serverCreds(t, "a", coordinatorID), time.Second)

	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ticket, err := EncodeTicket(livePlan("a"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := flight.NewClientFromConn(conn, nil).DoGet(ctx, &flight.Ticket{Ticket: ticket})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext DoGet error = %v, want Unavailable", err)
	}
	if n := rec.calls.Load(); n != 0 {
		t.Errorf("handler ran %d times for a plaintext client", n)
	}
}

func TestServeRequiresCredentials(t *testing.T) {
	t.Parallel()
	err := NewServer(&peerRecorder{}, nil).Serve(context.Background(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "transport credentials must be set") {
		t.Errorf("Serve without credentials = %v, want a refusal", err)
	}
}

func TestServerCredentialsRefusesUnverifiedClients(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	svid := pki.svid(t, siteID("a"))
	tests := []struct {
		name    string
		cfg     *tls.Config
		wantErr string
	}{
		{name: "nil", cfg: nil, wantErr: "tls config is nil"},
		{name: "no client auth", cfg: tlsconfig.TLSServerConfig(svid), wantErr: "must require and verify client certificates"},
		{name: "any client cert without verification", cfg: &tls.Config{ClientAuth: tls.RequireAnyClientCert}, wantErr: "must require and verify client certificates"},
		{name: "verify only if given", cfg: &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven}, wantErr: "must require and verify client certificates"},
		{name: "go-spiffe mTLS", cfg: tlsconfig.MTLSServerConfig(svid, pki.bundle, tlsconfig.AuthorizeAny())},
		{name: "crypto/tls verification", cfg: &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ServerCredentials(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ServerCredentials: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ServerCredentials error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewClientValidatesTargets(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	good := pki.clientTLS(t, coordinatorID, siteID("a"))
	tests := []struct {
		name    string
		targets []Target
		wantErr string
	}{
		{name: "no tls", targets: []Target{{Site: "a", Addr: "127.0.0.1:1"}}, wantErr: `targets[0] (site "a"): tls must be set`},
		{name: "no site", targets: []Target{{Addr: "127.0.0.1:1", TLS: good}}, wantErr: "site must be set"},
		{name: "no addr", targets: []Target{{Site: "a", TLS: good}}, wantErr: "addr must be set"},
		{name: "duplicate", targets: []Target{{Site: "a", Addr: "127.0.0.1:1", TLS: good}, {Site: "a", Addr: "127.0.0.1:2", TLS: good}}, wantErr: `targets[1]: site "a" is listed twice`},
		{name: "skips server verification", targets: []Target{{Site: "a", Addr: "127.0.0.1:1", TLS: &tls.Config{InsecureSkipVerify: true, GetClientCertificate: good.GetClientCertificate}}}, //nolint:gosec // the point of the test
			wantErr: "skips server verification"},
		{name: "no client certificate", targets: []Target{{Site: "a", Addr: "127.0.0.1:1", TLS: tlsconfig.TLSClientConfig(pki.bundle, tlsconfig.AuthorizeAny())}}, wantErr: "presents no client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.targets, nil)
			if err == nil {
				_ = c.Close()
				t.Fatalf("NewClient succeeded, want %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewClient error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
