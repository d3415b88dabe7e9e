package flight

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// ActionCatalog is the DoAction type by which the coordinator asks a site
// for its logical catalog: the body is empty, the single result a
// CatalogResult as JSON.
const ActionCatalog = "fedmesh.catalog"

// Cataloger is the optional ability of a Handler to report the site's
// logical catalog. The server finds it by type assertion and answers
// ActionCatalog with Unimplemented when the Handler lacks it.
type Cataloger interface {
	// Catalog returns the site's logical tables, their columns and types,
	// in the federation's names only.
	Catalog(ctx context.Context, peer spiffeid.ID) (*CatalogResult, error)
}

// CatalogResult is a site's logical catalog as reported to the coordinator.
type CatalogResult struct {
	Site string `json:"site"`
	// Declared is false when the site declares no tables (its engine's
	// tables are managed outside fedmesh): it may hold any table, so the
	// coordinator asks it about every one and leaves column checks to it.
	Declared bool                  `json:"declared"`
	Tables   []planner.TableSchema `json:"tables"`
}

// Table returns the named logical table of r, or nil.
func (r *CatalogResult) Table(name string) *planner.TableSchema {
	for i := range r.Tables {
		if r.Tables[i].Name == name {
			return &r.Tables[i]
		}
	}
	return nil
}

// doCatalog answers ActionCatalog for an authenticated peer.
func (s *Server) doCatalog(ctx context.Context, peer spiffeid.ID, stream flight.FlightService_DoActionServer) error {
	cat, ok := s.h.(Cataloger)
	if !ok {
		return status.Error(codes.Unimplemented, "this site does not report a catalog")
	}
	res, err := cat.Catalog(ctx, peer)
	if err != nil {
		s.logger.Info("catalog failed", logkey.Peer, peer.String(), logkey.Err, err)
		return handlerStatus(err, "catalog").Err()
	}
	body, err := json.Marshal(res)
	if err != nil {
		return status.Errorf(codes.Internal, "encode catalog: %v", err)
	}
	return stream.Send(&flight.Result{Body: body})
}

// Catalog asks site for its logical catalog over a short-lived connection
// of its own. Errors are *SiteError.
func (c *Client) Catalog(ctx context.Context, site string) (*CatalogResult, error) {
	r, err := c.catalog(ctx, site)
	if err != nil {
		return nil, siteError(site, err)
	}
	return r, nil
}

func (c *Client) catalog(ctx context.Context, site string) (*CatalogResult, error) {
	sc := c.sites[site]
	if sc == nil {
		return nil, errors.New("no flight target is configured for this site")
	}
	// A connection of its own, closed afterwards: fetches made while a
	// site is still down (at start, say) must not leave the queries'
	// connection waiting out gRPC's reconnect backoff once it is up.
	conn, err := dial(sc.target)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return doJSONAction(ctx, flight.NewClientFromConn(conn, nil), ActionCatalog, nil, site, "catalog",
		func(r *CatalogResult) string { return r.Site })
}
