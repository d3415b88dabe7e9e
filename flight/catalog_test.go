package flight

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/planner"
)

// catalogingHandler serves nothing but reports a catalog, labelled as
// coming from site label, and records the peer it was asked by.
type catalogingHandler struct {
	handlerFunc
	label string
	peer  chan spiffeid.ID
}

func (h catalogingHandler) Catalog(_ context.Context, peer spiffeid.ID) (*CatalogResult, error) {
	h.peer <- peer
	return &CatalogResult{Site: h.label, Declared: true, Tables: []planner.TableSchema{
		{Name: "sales", Columns: []planner.ColumnSchema{{Name: "region", Type: "VARCHAR"}, {Name: "amount", Type: "DOUBLE"}}},
		{Name: "customers", Error: "the site could not describe this table"},
	}}, nil
}

func TestCatalogActionOverMTLS(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	noServe := handlerFunc(func(context.Context, spiffeid.ID, *planner.SubPlan) (*Result, error) {
		t.Error("catalog ran a sub-plan")
		return nil, nil
	})
	peers := make(chan spiffeid.ID, 4)
	srvA := startServer(t, catalogingHandler{handlerFunc: noServe, label: "a", peer: peers}, pki.serverCreds(t, "a", coordinatorID), time.Second)
	// Site b labels its catalog as a's; site c cannot report one.
	srvB := startServer(t, catalogingHandler{handlerFunc: noServe, label: "a", peer: peers}, pki.serverCreds(t, "b", coordinatorID), time.Second)
	srvC := startServer(t, noServe, pki.serverCreds(t, "c", coordinatorID), time.Second)
	client := newTestClient(t, []Target{
		{Site: "a", Addr: srvA.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("a"))},
		{Site: "b", Addr: srvB.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("b"))},
		{Site: "c", Addr: srvC.addr, TLS: pki.clientTLS(t, coordinatorID, siteID("c"))},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	got, err := client.Catalog(ctx, "a")
	if err != nil {
		t.Fatalf("Catalog(a): %v", err)
	}
	if p := <-peers; p != coordinatorID {
		t.Errorf("catalog was asked by %s, want the coordinator's verified ID", p)
	}
	if !got.Declared || len(got.Tables) != 2 || got.Table("sales") == nil || got.Table("returns") != nil {
		t.Fatalf("catalog of a = %+v", got)
	}
	if d := cmp.Diff([]planner.ColumnSchema{{Name: "region", Type: "VARCHAR"}, {Name: "amount", Type: "DOUBLE"}}, got.Table("sales").Columns); d != "" {
		t.Errorf("sales columns (-want +got):\n%s", d)
	}
	if _, err := client.Catalog(ctx, "b"); err == nil {
		t.Error("a catalog labelled with another site's name was accepted")
	}
	<-peers
	_, err = client.Catalog(ctx, "c")
	if se := asSiteError(t, err); se.Site != "c" || se.Code != codes.Unimplemented {
		t.Errorf("site c without a catalog: %+v, want Unimplemented from c", se)
	}
	if _, err := client.Catalog(ctx, "z"); err == nil {
		t.Error("catalog of an unknown site succeeded")
	}

	// A caller that is not an allowed coordinator is refused at TLS.
	other := newTestClient(t, []Target{{Site: "a", Addr: srvA.addr, TLS: pki.clientTLS(t, siteID("b"), siteID("a"))}})
	if _, err := other.Catalog(ctx, "a"); err == nil {
		t.Error("site a reported its catalog to a caller that is not the coordinator")
	}
}
