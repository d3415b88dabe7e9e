package e2e

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
)

// TestRotationUnderLoad rotates every component's SVID and then the trust
// domain's CA while queries run, without restarting anything: first the new
// CA joins every bundle, then every SVID is replaced by one from the new CA,
// then the old CA leaves the bundles. No query may fail, and handshakes after
// the rotation must present the new SVIDs.
func TestRotationUnderLoad(t *testing.T) {
	t.Parallel()
	td := spiffeid.RequireTrustDomainFromString("rot.example")
	sites := []string{"a", "b"}
	oldDir, newDir := filepath.Join(t.TempDir(), "old"), filepath.Join(t.TempDir(), "new")
	for _, d := range []string{oldDir, newDir} {
		if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td.Name(), OutDir: d, Sites: sites}); err != nil {
			t.Fatal(err)
		}
	}
	oldCA := mustRead(t, filepath.Join(oldDir, certs.BundleFile))
	newCA := mustRead(t, filepath.Join(newDir, certs.BundleFile))
	both := append(append([]byte{}, oldCA...), newCA...)

	names := append([]string{certs.CoordinatorName}, certs.SiteFileName("a"), certs.SiteFileName("b"))
	mounts := map[string]*mounted{}
	spies := map[string]*spySource{}
	for _, n := range names {
		mounts[n] = mount(t, oldDir, n, oldCA)
		spies[n] = spy(mounts[n].src)
	}
	coordID := certs.CoordinatorID(td)
	var idSites []idSite
	for _, s := range sites {
		id, _ := certs.SiteID(td, s)
		idSites = append(idSites, idSite{name: s, src: spies[certs.SiteFileName(s)], id: id, allow: certs.AllowIDs(coordID)})
	}
	const age = 300 * time.Millisecond
	fed := startIdentityFederation(t, idFedOptions{coordinator: spies[certs.CoordinatorName], sites: idSites, maxConnectionAge: age})

	const sql = "SELECT region, COUNT(*) AS n, SUM(amount) FROM sales GROUP BY region ORDER BY region"
	if _, err := fed.tryQuery(sql); err != nil {
		t.Fatalf("query before rotation: %v", err)
	}
	stop := make(chan struct{})
	type result struct {
		n     int
		fails []error
	}
	done := make(chan result)
	var finished atomic.Int64
	go func() {
		n, fails := fed.queryLoop(sql, 2, stop, 90*time.Second, &finished)
		done <- result{n, fails}
	}()

	authorities := func(n string) int {
		b, _ := mounts[n].src.GetX509BundleForTrustDomain(td)
		return len(b.X509Authorities())
	}
	moreQueries(t, &finished, 3, "before the rotation")
	// 1. The new CA joins every bundle.
	for _, n := range names {
		writeAtomic(t, mounts[n].bundle, both)
	}
	for _, n := range names {
		waitFor(t, 10*time.Second, n+" trusting both CAs", func() bool { return authorities(n) == 2 })
	}
	time.Sleep(2 * age)
	moreQueries(t, &finished, 3, "with both CAs trusted")
	// 2. Every SVID is replaced by one from the new CA.
	for _, n := range names {
		mounts[n].install(t, newDir, n)
	}
	for _, n := range names {
		want := serialIn(t, newDir, n)
		waitFor(t, 10*time.Second, n+" serving its new SVID", func() bool { return spies[n].servedSerial(want) > 0 })
	}
	// Let every connection made with an old SVID age out.
	time.Sleep(3 * age)
	moreQueries(t, &finished, 3, "on the new SVIDs")
	// 3. The old CA leaves every bundle.
	for _, n := range names {
		writeAtomic(t, mounts[n].bundle, newCA)
	}
	for _, n := range names {
		waitFor(t, 10*time.Second, n+" trusting only the new CA", func() bool { return authorities(n) == 1 })
	}
	time.Sleep(3 * age)
	moreQueries(t, &finished, 3, "with only the new CA trusted")
	close(stop)
	res := <-done

	t.Logf("%d queries during rotation", res.n)
	if len(res.fails) > 0 {
		t.Errorf("%d of %d queries failed during rotation; first: %v", len(res.fails), res.n, res.fails[0])
	}
	if _, err := fed.tryQuery(sql); err != nil {
		t.Errorf("query after rotation: %v", err)
	}

	// New connections now need the new identities: an old-CA SVID is refused,
	// a new one accepted, by a site that never restarted.
	siteA := fed.addrs["a"]
	oldCoord := loadSource(t, oldDir, certs.CoordinatorName)
	newCoord := loadSource(t, newDir, certs.CoordinatorName)
	idA, _ := certs.SiteID(td, "a")
	if err := handshake(siteA, certs.ClientTLS(trustAll{Source: oldCoord, also: newCoord}, idA)); err == nil {
		t.Errorf("site a accepted a coordinator SVID from the retired CA")
	}
	if err := handshake(siteA, certs.ClientTLS(newCoord, idA)); err != nil {
		t.Errorf("site a refused the coordinator's new SVID: %v", err)
	}
}
