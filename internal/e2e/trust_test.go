package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
)

// devDomain is a dev CA with its files, for trust tests.
type devDomain struct {
	td  spiffeid.TrustDomain
	dir string
	ca  *certs.DevCA
}

func newDevDomain(t *testing.T, td string, sites ...string) devDomain {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td, OutDir: dir, Sites: sites})
	if err != nil {
		t.Fatal(err)
	}
	return devDomain{td: ca.TrustDomain(), dir: dir, ca: ca}
}

func (d devDomain) bundle() string { return filepath.Join(d.dir, certs.BundleFile) }

// source opens SVID name of d trusting d and the federated domains.
func (d devDomain) source(t *testing.T, name string, federated ...devDomain) certs.Source {
	t.Helper()
	cert, key := certs.Paths(d.dir, name)
	fed := map[spiffeid.TrustDomain]string{}
	for _, f := range federated {
		fed[f.td] = f.bundle()
	}
	src, err := certs.OpenFiles(certs.FileOptions{Cert: cert, Key: key, Bundle: d.bundle(), Federated: fed})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (d devDomain) siteID(site string) spiffeid.ID {
	id, _ := certs.SiteID(d.td, site)
	return id
}

const trustSQL = "SELECT region, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region"

// TestFederatedTrustDomains: a coordinator in spiffe://hq.example queries
// sites in spiffe://dept-a.example once the two domains have exchanged
// bundles, and not before.
func TestFederatedTrustDomains(t *testing.T) {
	t.Parallel()
	hq := newDevDomain(t, "hq.example")
	dept := newDevDomain(t, "dept-a.example", "a", "b")
	hqCoord := certs.CoordinatorID(hq.td)
	tests := []struct {
		name          string
		coordTrusts   []devDomain // federated bundles the coordinator has
		sitesTrust    []devDomain // federated bundles the sites have
		wantErrSubstr string
		// wantSiteDenial: the sites' audit logs show hq's coordinator refused
		// as untrusted (the coordinator itself only sees a broken connection).
		wantSiteDenial bool
	}{
		{name: "bundles exchanged", coordTrusts: []devDomain{dept}, sitesTrust: []devDomain{hq}},
		{name: "sites lack hq's bundle", coordTrusts: []devDomain{dept}, wantErrSubstr: `"code":"site_failed"`, wantSiteDenial: true},
		{name: "coordinator lacks dept-a's bundle", sitesTrust: []devDomain{hq}, wantErrSubstr: `certs: reject server: x509svid: could not get X509 bundle: no trust bundle for trust domain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sites []idSite
			for _, s := range []string{"a", "b"} {
				sites = append(sites, idSite{name: s, src: dept.source(t, certs.SiteFileName(s), tt.sitesTrust...),
					id: dept.siteID(s), allow: certs.AllowIDs(hqCoord)})
			}
			fed := startIdentityFederation(t, idFedOptions{coordinator: hq.source(t, certs.CoordinatorName, tt.coordTrusts...), sites: sites})
			got, err := fed.tryQuery(trustSQL)
			if tt.wantErrSubstr == "" {
				if err != nil {
					t.Fatalf("federated query: %v", err)
				}
				if len(got.Rows) == 0 || len(got.Sites) != 2 {
					t.Errorf("federated query answered %d rows from %d sites", len(got.Rows), len(got.Sites))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
				t.Errorf("query error = %v; want it to contain %q", err, tt.wantErrSubstr)
			}
			if tt.wantSiteDenial {
				waitFor(t, 5*time.Second, "a site auditing hq's coordinator as untrusted", func() bool {
					for _, s := range []string{"site-a", "site-b"} {
						for _, r := range readRecords(t, fed.audits[s]) {
							if r.Event == audit.EventPeerDenied && r.Peer == hqCoord.String() && slices.Contains(r.Reasons, "untrusted") {
								return true
							}
						}
					}
					return false
				})
			}
		})
	}
}

// TestSecondCoordinatorDuringMigration: sites of dept-a.example move from
// their own coordinator to hq's. During the migration they allow both (hq's
// by a trust-domain path prefix); a workload outside the list is refused.
func TestSecondCoordinatorDuringMigration(t *testing.T) {
	t.Parallel()
	hq := newDevDomain(t, "hq.example")
	dept := newDevDomain(t, "dept-a.example", "a", "b")
	// hq names its coordinators under /fedmesh/.
	hqCoordID := spiffeid.RequireFromString("spiffe://hq.example/fedmesh/coordinator-eu")
	if _, _, err := hq.ca.Issue(hqCoordID, time.Hour, hq.dir, "coordinator-eu"); err != nil {
		t.Fatal(err)
	}
	allow, err := certs.ParseAllow("spiffe://dept-a.example/coordinator", "spiffe://hq.example/fedmesh/*")
	if err != nil {
		t.Fatal(err)
	}
	var sites []idSite
	for _, s := range []string{"a", "b"} {
		sites = append(sites, idSite{name: s, src: dept.source(t, certs.SiteFileName(s), hq), id: dept.siteID(s), allow: allow})
	}
	// A dept-a workload that is not a coordinator: site b's own SVID.
	intruder := dept.source(t, certs.SiteFileName("b"))
	fed := startIdentityFederation(t, idFedOptions{
		coordinator: dept.source(t, certs.CoordinatorName),
		sites:       sites,
		more:        []certs.Source{hq.source(t, "coordinator-eu", dept), intruder},
	})
	for i, f := range []*federation{fed.federation, fed.others[0]} {
		if _, err := f.tryQuery(trustSQL); err != nil {
			t.Errorf("coordinator %d: %v", i, err)
		}
	}
	if _, err := fed.others[1].tryQuery(trustSQL); err == nil {
		t.Errorf("site b's SVID was accepted as a coordinator")
	}
	waitFor(t, 5*time.Second, "site a auditing the intruder", func() bool {
		return slices.ContainsFunc(readRecords(t, fed.audits["site-a"]), func(r audit.Record) bool {
			return r.Event == audit.EventPeerDenied && r.Peer == "spiffe://dept-a.example/site/b"
		})
	})
	if l := fed.logs.String(); !strings.Contains(l, `unexpected ID \"spiffe://dept-a.example/site/b\" (allowed: spiffe://dept-a.example/coordinator, spiffe://hq.example/fedmesh/*)`) {
		t.Errorf("refusal not logged with the ID and the allow-list")
	}
}

// TestRefusedPeers: each kind of caller a site must refuse is refused at
// the handshake, logged with its reason and the ID it claimed, and audited.
func TestRefusedPeers(t *testing.T) {
	t.Parallel()
	good := newDevDomain(t, "example.org", "a", "b")
	evil := newDevDomain(t, "evil.org")
	coordID := certs.CoordinatorID(good.td)
	coord := good.source(t, certs.CoordinatorName)

	// An SVID for the right ID that expired an hour ago.
	good.ca.SetClock(func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if _, _, err := good.ca.Issue(coordID, time.Hour, good.dir, "expired"); err != nil {
		t.Fatal(err)
	}
	good.ca.SetClock(nil)

	fed := startIdentityFederation(t, idFedOptions{coordinator: coord,
		sites: []idSite{{name: "a", src: good.source(t, certs.SiteFileName("a")), id: good.siteID("a"), allow: certs.AllowIDs(coordID)}}})
	addr := fed.addrs["a"]
	siteA := good.siteID("a")

	tests := []struct {
		name     string
		dial     func() error
		reason   string
		peer     string
		logsWant string
	}{
		{
			name:   "expired SVID",
			dial:   func() error { return handshake(addr, certs.ClientTLS(good.source(t, "expired"), siteA)) },
			reason: "expired", peer: coordID.String(), logsWant: "certificate has expired",
		},
		{
			name: "SVID from an untrusted trust domain",
			dial: func() error {
				return handshake(addr, certs.ClientTLS(trustAll{Source: evil.source(t, certs.CoordinatorName), also: coord}, siteA))
			},
			reason: "untrusted", peer: "spiffe://evil.org/coordinator", logsWant: `no trust bundle for trust domain \"evil.org\"`,
		},
		{
			name:   "valid SVID with an ID not allowed",
			dial:   func() error { return handshake(addr, certs.ClientTLS(good.source(t, certs.SiteFileName("b")), siteA)) },
			reason: "not_allowed", peer: "spiffe://example.org/site/b", logsWant: `unexpected ID \"spiffe://example.org/site/b\"`,
		},
		{
			name: "plaintext gRPC",
			dial: func() error {
				conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					return err
				}
				defer conn.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				stream, err := flight.NewClientFromConn(conn, nil).DoGet(ctx, &flight.Ticket{Ticket: []byte("x")})
				if err != nil {
					return err
				}
				_, err = stream.Recv()
				return err
			},
			reason: "not_tls", logsWant: "first record does not look like a TLS handshake",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.dial(); err == nil {
				t.Fatalf("site a accepted the connection")
			}
			var rec audit.Record
			waitFor(t, 5*time.Second, "a peer_denied record", func() bool {
				for _, r := range readRecords(t, fed.audits["site-a"]) {
					if r.Event == audit.EventPeerDenied && slices.Contains(r.Reasons, tt.reason) {
						rec = r
						return true
					}
				}
				return false
			})
			if rec.Peer != tt.peer || !strings.Contains(rec.Error, strings.ReplaceAll(tt.logsWant, `\"`, `"`)) {
				t.Errorf("audit record: peer %q error %q; want peer %q and error containing %q", rec.Peer, rec.Error, tt.peer, tt.logsWant)
			}
			logs := fed.logs.String()
			if !strings.Contains(logs, "reason="+tt.reason) || !strings.Contains(logs, tt.logsWant) {
				t.Errorf("refusal not logged with reason %s and %q", tt.reason, tt.logsWant)
			}
		})
	}
	// The legitimate coordinator still gets through.
	if _, err := fed.tryQuery(trustSQL); err != nil {
		t.Errorf("query from the allowed coordinator: %v", err)
	}
}
