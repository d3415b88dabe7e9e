package certs

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// startGRPC serves the standard health service on 127.0.0.1 with ServerTLS and
// records the SPIFFE ID PeerID reports for every call.
func startGRPC(t *testing.T, src Source, allowed ...spiffeid.ID) (addr string, seen func() []spiffeid.ID) {
	t.Helper()
	var mu sync.Mutex
	var ids []spiffeid.ID
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		id, err := PeerID(ctx)
		if err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "%v", err)
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		return handler(ctx, req)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(ServerTLS(src, allowed...))), grpc.UnaryInterceptor(record))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), func() []spiffeid.ID {
		mu.Lock()
		defer mu.Unlock()
		return append([]spiffeid.ID(nil), ids...)
	}
}

func checkHealth(t *testing.T, addr string, client Source, want spiffeid.ID) (spiffeid.ID, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(ClientTLS(client, want))))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var p peer.Peer
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
	if err != nil {
		return spiffeid.ID{}, err
	}
	id, err := PeerID(peer.NewContext(context.Background(), &p))
	if err != nil {
		t.Fatalf("client-side PeerID: %v", err)
	}
	return id, nil
}

func TestGRPCMTLS(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0, "a", "b")
	coord, siteA := CoordinatorID(d.td), d.siteID(t, "a")
	addr, seen := startGRPC(t, d.source(t, "site-a"), coord)

	t.Run("allowed coordinator", func(t *testing.T) {
		got, err := checkHealth(t, addr, d.source(t, CoordinatorName), siteA)
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if got != siteA {
			t.Errorf("client saw server %s, want %s", got, siteA)
		}
		if ids := seen(); len(ids) != 1 || ids[0] != coord {
			t.Errorf("server saw callers %v, want [%s]", ids, coord)
		}
	})
	t.Run("site is not an allowed caller", func(t *testing.T) {
		_, err := checkHealth(t, addr, d.source(t, "site-b"), siteA)
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("Check err = %v, want Unavailable", err)
		}
		if ids := seen(); len(ids) != 1 {
			t.Errorf("refused caller reached the handler: %v", ids)
		}
	})
	t.Run("client expects another site", func(t *testing.T) {
		_, err := checkHealth(t, addr, d.source(t, CoordinatorName), d.siteID(t, "b"))
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certs: reject server: unexpected ID") ||
			!strings.Contains(err.Error(), "spiffe://example.org/site/a") {
			t.Fatalf("Check err = %v, want Unavailable naming the unexpected server ID", err)
		}
	})
}

func TestPeerIDWithoutTLS(t *testing.T) {
	t.Parallel()
	if _, err := PeerID(context.Background()); err == nil || !strings.Contains(err.Error(), "no gRPC peer") {
		t.Errorf("PeerID(no peer) err = %v", err)
	}
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}})
	if _, err := PeerID(ctx); err == nil || !strings.Contains(err.Error(), "not TLS") {
		t.Errorf("PeerID(plaintext peer) err = %v", err)
	}
}
