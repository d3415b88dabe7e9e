package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/testenv"
)

// spire is a SPIRE server and agent started for one test.
type spire struct {
	t                  *testing.T
	server, agent      string // binaries
	dir                string
	td                 spiffeid.TrustDomain
	serverSock, apiURL string // server API socket; agent Workload API address
}

// startSPIRE starts a SPIRE server (sqlite datastore, join_token node
// attestor, 127.0.0.1) and one agent whose Workload API listens on a unix
// socket in a temp dir. Both stop when the test ends.
func startSPIRE(t *testing.T, td string) *spire {
	t.Helper()
	s := &spire{
		t:      t,
		server: testenv.Server(t, "spire", "FEDMESH_SPIRE_SERVER"),
		agent:  testenv.Server(t, "spire", "FEDMESH_SPIRE_AGENT"),
		td:     spiffeid.RequireTrustDomainFromString(td),
	}
	// Unix socket paths must stay under 108 bytes: t.TempDir() can be long.
	dir, err := os.MkdirTemp("", "fm-spire-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.dir = dir
	s.serverSock = filepath.Join(dir, "server.sock")
	agentSock := filepath.Join(dir, "agent.sock")
	s.apiURL = "unix://" + agentSock
	port := freePort(t)

	serverConf := fmt.Sprintf(`server {
  bind_address = "127.0.0.1"
  bind_port = "%d"
  socket_path = %q
  trust_domain = %q
  data_dir = %q
  log_level = "WARN"
  ca_key_type = "ec-p256"
  ca_ttl = "24h"
  default_x509_svid_ttl = "1h"
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = %q
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
}
`, port, s.serverSock, td, filepath.Join(dir, "server-data"), filepath.Join(dir, "datastore.sqlite3"))
	s.start("server", s.server, "run", "-config", s.write("server.conf", serverConf))
	s.waitFor("server health", func() error { _, err := s.run(s.server, "healthcheck", "-socketPath", s.serverSock); return err })

	node := "spiffe://" + td + "/node/fedmesh-test"
	out, err := s.run(s.server, "token", "generate", "-socketPath", s.serverSock, "-spiffeID", node, "-ttl", "600")
	if err != nil {
		t.Fatalf("spire token generate: %v\n%s", err, out)
	}
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Token:"))

	agentConf := fmt.Sprintf(`agent {
  data_dir = %q
  log_level = "WARN"
  server_address = "127.0.0.1"
  server_port = "%d"
  socket_path = %q
  trust_domain = %q
  insecure_bootstrap = true
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`, filepath.Join(dir, "agent-data"), port, agentSock, td)
	s.start("agent", s.agent, "run", "-config", s.write("agent.conf", agentConf), "-joinToken", token)
	s.waitFor("agent health", func() error {
		_, err := s.run(s.agent, "healthcheck", "-socketPath", agentSock)
		return err
	})
	return s
}

// register creates a registration entry for id under the test's node,
// selecting this test process by its uid, with SVIDs living ttl.
func (s *spire) register(id spiffeid.ID, ttl time.Duration) {
	s.t.Helper()
	out, err := s.run(s.server, "entry", "create", "-socketPath", s.serverSock,
		"-parentID", "spiffe://"+s.td.Name()+"/node/fedmesh-test", "-spiffeID", id.String(),
		"-selector", "unix:uid:"+strconv.Itoa(os.Getuid()), "-x509SVIDTTL", strconv.Itoa(int(ttl.Seconds())))
	if err != nil {
		s.t.Fatalf("spire entry create %s: %v\n%s", id, err, out)
	}
}

// source opens the Workload API for the SVID with id.
func (s *spire) source(id spiffeid.ID) *certs.SPIRESource {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src, err := certs.OpenSPIRE(ctx, certs.SPIREOptions{Socket: s.apiURL, ID: id})
	if err != nil {
		s.t.Fatalf("workload API: %v\n%s", err, s.logs())
	}
	s.t.Cleanup(func() { _ = src.Close() })
	return src
}

func (s *spire) write(name, content string) string {
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *spire) start(name, bin string, args ...string) {
	s.t.Helper()
	logf, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, s.dir
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start spire %s: %v", name, err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if s.t.Failed() {
			s.t.Logf("spire logs:\n%s", s.logs())
		}
	})
}

func (s *spire) run(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (s *spire) waitFor(what string, f func() error) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("spire: %s: %v\n%s", what, err, s.logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *spire) logs() string {
	var b strings.Builder
	for _, n := range []string{"server", "agent"} {
		out, _ := os.ReadFile(filepath.Join(s.dir, n+".log"))
		fmt.Fprintf(&b, "--- spire %s ---\n%s\n", n, out)
	}
	return b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSPIREWorkloadAPI runs a federated query with every identity from
// SPIRE's Workload API, while SPIRE rotates the short-lived SVIDs: no query
// may fail, and handshakes late in the loop present rotated SVIDs.
func TestSPIREWorkloadAPI(t *testing.T) {
	t.Parallel()
	sp := startSPIRE(t, "spire.example")
	const ttl = 20 * time.Second
	coordID := certs.CoordinatorID(sp.td)
	ids := map[string]spiffeid.ID{"coordinator": coordID}
	for _, s := range []string{"a", "b"} {
		ids[s], _ = certs.SiteID(sp.td, s)
	}
	for _, id := range ids {
		sp.register(id, ttl)
	}
	spies := map[string]*spySource{}
	for n, id := range ids {
		if n == "coordinator" {
			continue
		}
		spies[n] = spy(sp.source(id))
	}
	// The coordinator's identity comes the way a config file asks for it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	coordSrc, err := (config.Identity{Source: "spire", SPIRE: &config.SPIREIdentity{Socket: sp.apiURL}, SPIFFEID: coordID.String()}).OpenIdentity(ctx, nil)
	if err != nil {
		t.Fatalf("identity {source: spire}: %v", err)
	}
	spies["coordinator"] = spy(coordSrc)
	var sites []idSite
	for _, s := range []string{"a", "b"} {
		sites = append(sites, idSite{name: s, src: spies[s], id: ids[s], allow: certs.AllowIDs(coordID)})
	}
	fed := startIdentityFederation(t, idFedOptions{coordinator: spies["coordinator"], sites: sites, maxConnectionAge: time.Second})
	if _, err := fed.tryQuery(trustSQL); err != nil {
		t.Fatalf("federated query with Workload API identities: %v", err)
	}

	first := map[string]string{}
	for n, s := range spies {
		svid, err := s.GetX509SVID()
		if err != nil {
			t.Fatal(err)
		}
		first[n] = svid.Certificates[0].SerialNumber.String()
		if got := svid.Certificates[0].NotAfter.Sub(svid.Certificates[0].NotBefore); got > ttl+time.Minute {
			t.Fatalf("%s SVID lives %s; the entry's TTL of %s did not apply", n, got, ttl)
		}
	}
	// Query until every component has handed a rotated SVID to a
	// handshake (SPIRE rotates at about half the TTL; connections live 1 s).
	queryAcrossRenewals(t, fed.federation, spies, first, 2*ttl+10*time.Second, "SPIRE rotation")
}
