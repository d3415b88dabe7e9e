package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestReadyz: a coordinator whose sites all answered reports ready with
// every site's catalog known.
func TestReadyz(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(fed.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Ready bool              `json:"ready"`
			Sites map[string]string `json:"sites"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		all := len(r.Sites) == len(sites3)
		for _, s := range sites3 {
			all = all && r.Sites[s] == "known"
		}
		if resp.StatusCode == http.StatusOK && r.Ready && all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %+v, want 200 with every site known", resp.StatusCode, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrape GETs a /metrics page.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// sample returns the value of one series ("name{labels}" as exposed,
// labels in name order), and whether it is present.
func sample(page, series string) (float64, bool) {
	for line := range strings.Lines(page) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestMetrics: after an allowed and a denied query, the coordinator's and
// the sites' /metrics count them by outcome and site, with the rows
// exported, latencies, audit fsyncs, the bundle and the identity; the
// sites' ops port also answers the gRPC health check without TLS.
func TestMetrics(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{metrics: true})
	ok := fed.query("SELECT region, COUNT(*) AS n FROM sales GROUP BY region")
	if ok.Status != http.StatusOK {
		t.Fatalf("query: %d %+v", ok.Status, ok.Error)
	}
	denied := fed.query("SELECT customer_id, COUNT(*) FROM sales GROUP BY customer_id")
	if denied.Status != http.StatusForbidden {
		t.Fatalf("query on a denied column: %d, want 403", denied.Status)
	}

	coord := scrape(t, fed.url+"/metrics")
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`fedmesh_coordinator_queries_total{outcome="ok"}`, 1},
		{`fedmesh_coordinator_queries_total{outcome="denied"}`, 1},
		{`fedmesh_coordinator_site_requests_total{outcome="ok",site="a"}`, 1},
		{`fedmesh_coordinator_site_catalog_known{site="b"}`, 1},
		{`fedmesh_coordinator_query_duration_seconds_count`, 2},
	} {
		if got, found := sample(coord, c.series); !found || got != c.want {
			t.Errorf("coordinator %s = %v (present %v), want %v", c.series, got, found, c.want)
		}
	}
	if v, _ := sample(coord, "fedmesh_audit_fsync_seconds_count"); v < 1 {
		t.Errorf("coordinator fedmesh_audit_fsync_seconds_count = %v, want ≥ 1", v)
	}
	if v, _ := sample(coord, "fedmesh_identity_expiry_seconds"); v < 3600 {
		t.Errorf("coordinator fedmesh_identity_expiry_seconds = %v, want the dev SVID's remaining day", v)
	}

	site := scrape(t, "http://"+fed.metrics["a"]+"/metrics")
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`fedmesh_agent_subplans_total{outcome="exported"}`, 1},
		{`fedmesh_agent_policy_bundle_loaded`, 1},
		{`fedmesh_agent_engine_slots`, 4},
		{`fedmesh_agent_engine_slots_in_use`, 0},
		{`fedmesh_agent_engine_query_seconds_count{result="ok"}`, 1},
	} {
		if got, found := sample(site, c.series); !found || got != c.want {
			t.Errorf("site a %s = %v (present %v), want %v", c.series, got, found, c.want)
		}
	}
	if v, _ := sample(site, "fedmesh_agent_exported_rows_total"); v <= 0 {
		t.Errorf("site a fedmesh_agent_exported_rows_total = %v, want the groups it exported", v)
	}
	if v, _ := sample(site, "fedmesh_agent_exported_bytes_total"); v <= 0 {
		t.Errorf("site a fedmesh_agent_exported_bytes_total = %v, want > 0", v)
	}
	// The denied query: the first site to refuse cancels the others'
	// sub-plans, so each site denied it, saw it cancelled, or never got it;
	// the site that refused counted that before the coordinator answered.
	deniedSites := 0.0
	for _, name := range sites3 {
		page := scrape(t, "http://"+fed.metrics[name]+"/metrics")
		d, _ := sample(page, `fedmesh_agent_subplans_total{outcome="denied"}`)
		c, _ := sample(page, `fedmesh_agent_subplans_total{outcome="canceled"}`)
		if d+c > 1 {
			t.Errorf("site %s: denied %v + canceled %v sub-plans, want at most 1", name, d, c)
		}
		deniedSites += d
	}
	if deniedSites < 1 {
		t.Error("no site counted the denied sub-plan")
	}
	if v, _ := sample(site, "fedmesh_agent_policy_decision_seconds_count"); v < 1 {
		t.Errorf("site a fedmesh_agent_policy_decision_seconds_count = %v, want ≥ 1", v)
	}
	if v, _ := sample(site, "fedmesh_audit_append_seconds_count"); v < 1 {
		t.Errorf("site a fedmesh_audit_append_seconds_count = %v, want ≥ 1 (one per sub-plan)", v)
	}
	if !strings.Contains(site, "fedmesh_agent_policy_bundle_info{revision=") {
		t.Error("site a exposes no fedmesh_agent_policy_bundle_info")
	}
	for _, bad := range []string{"query_id", "analyst", "alice", "SELECT"} {
		if strings.Contains(site+coord, bad) {
			t.Errorf("metrics mention %q: no query, SQL or analyst may become a label", bad)
		}
	}

	conn, err := grpc.NewClient(fed.metrics["a"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health on the ops port = %v, %v; want SERVING", resp.GetStatus(), err)
	}
}
