package coordinator

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// DefaultCatalogRefresh is how often the coordinator asks every site for
// its catalog again, when Config.CatalogRefresh is zero.
const DefaultCatalogRefresh = time.Minute

// Bounds on fetching a site's catalog.
const (
	catalogAttempts     = 5                      // at start, per site
	catalogFirstBackoff = 250 * time.Millisecond // doubled after each failed attempt
	catalogMaxBackoff   = 4 * time.Second
	catalogFetchTimeout = 5 * time.Second // one attempt
	// catalogQueryTimeout bounds the fetch a query makes for a site whose
	// catalog is still missing.
	catalogQueryTimeout = 3 * time.Second
)

// catalogs caches the catalog each site reported (flight.ActionCatalog).
// Sites report their logical tables, column names and types; the
// coordinator uses them to choose the sites that take part in a query and
// to refuse unknown columns before contacting any site.
type catalogs struct {
	mu  sync.RWMutex
	got map[string]*flight.CatalogResult // site → last catalog reported
	at  map[string]time.Time             // site → when it was fetched
	// locks serialise fetches of one site (a buffered channel of one, so
	// a waiting query can give up when its context ends).
	locks map[string]chan struct{}
}

func newCatalogs(sites []Site) *catalogs {
	c := &catalogs{got: map[string]*flight.CatalogResult{}, at: map[string]time.Time{}, locks: map[string]chan struct{}{}}
	for _, s := range sites {
		c.locks[s.Name] = make(chan struct{}, 1)
	}
	return c
}

func (c *catalogs) get(site string) *flight.CatalogResult {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.got[site]
}

func (c *catalogs) set(site string, r *flight.CatalogResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got[site], c.at[site] = r, time.Now()
}

// fetchCatalog asks site for its catalog once and caches it. With
// ifMissing it does nothing when a catalog is already cached (one may
// have arrived while it waited for another fetch of the site).
func (c *Coordinator) fetchCatalog(ctx context.Context, site string, ifMissing bool) error {
	lock := c.catalogs.locks[site]
	select {
	case lock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-lock }()
	if ifMissing && c.catalogs.get(site) != nil {
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, catalogFetchTimeout)
	defer cancel()
	r, err := c.client.Catalog(fctx, site)
	if err != nil {
		c.log.Warn("catalog fetch failed", logkey.Site, site, logkey.Err, err)
		return err
	}
	prev := c.catalogs.get(site)
	c.catalogs.set(site, r)
	if prev == nil || prev.Declared != r.Declared || !reflect.DeepEqual(prev.Tables, r.Tables) {
		c.log.Info("catalog", logkey.Site, site, logkey.Declared, r.Declared, logkey.Tables, strings.Join(tableNames(r), ","))
		c.auditCatalog(ctx, r)
	}
	return nil
}

// auditCatalog records a site's new catalog (tables and column counts):
// what the coordinator then based its choice of sites on.
// The catalog carries no data, so a failed write is logged, not fatal.
func (c *Coordinator) auditCatalog(ctx context.Context, r *flight.CatalogResult) {
	if c.audit == nil {
		return
	}
	cols := map[string]int{}
	for _, t := range r.Tables {
		cols[t.Name] = len(t.Columns)
	}
	// The site goes in Details: a record's Site field names the log's
	// owner (a site agent), which the coordinator's log is not.
	rec := audit.Record{Component: audit.ComponentCoordinator, Event: audit.EventCatalog,
		Details: map[string]any{"site": r.Site, "declared": r.Declared, "tables": tableNames(r), "columns": cols}}
	if _, _, err := c.audit.Append(context.WithoutCancel(ctx), rec); err != nil {
		c.log.Error("audit write of a site's catalog failed", logkey.Site, r.Site, logkey.Err, err)
	}
}

// watchCatalogs fetches every site's catalog at start, retrying each site
// a few times with backoff, then again every refresh interval (a negative
// interval: never). A site still missing is also fetched when a query
// needs it (ensureCatalogs). It returns when ctx ends.
func (c *Coordinator) watchCatalogs(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range c.cfg.Sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := catalogFirstBackoff
			for attempt := 1; attempt <= catalogAttempts; attempt++ {
				if c.fetchCatalog(ctx, s.Name, true) == nil || attempt == catalogAttempts {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, catalogMaxBackoff)
			}
		}()
	}
	wg.Wait()
	every := c.cfg.CatalogRefresh
	if every < 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, s := range c.cfg.Sites {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.fetchCatalog(ctx, s.Name, false) // a failure keeps the last catalog; logged
			}()
		}
		wg.Wait()
	}
}

// ensureCatalogs fetches, once and within a short bound, the catalog of
// every site in names that has none yet (down at start, say).
func (c *Coordinator) ensureCatalogs(ctx context.Context, names []string) {
	ctx, cancel := context.WithTimeout(ctx, catalogQueryTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range names {
		if c.catalogs.get(s) != nil || c.catalogs.locks[s] == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.fetchCatalog(ctx, s, true)
		}()
	}
	wg.Wait()
}

// siteTables returns the logical tables site holds, nil meaning every
// table. Precedence: the coordinator config's tables for the site (an
// operator's override), else the catalog the site reported, else (no
// catalog: the site could not be asked, or declares no tables) every
// table, so the site is asked and answers or fails for itself.
func (c *Coordinator) siteTables(site string) []string {
	for _, s := range c.cfg.Sites {
		if s.Name == site && s.Tables != nil {
			return s.Tables
		}
	}
	if r := c.catalogs.get(site); r != nil && r.Declared {
		return tableNames(r)
	}
	return nil
}

// siteHas reports whether site holds logical table (see siteTables).
func (c *Coordinator) siteHas(site, table string) bool {
	ts := c.siteTables(site)
	return ts == nil || slices.Contains(ts, table)
}

// siteColumns is the planner.SchemaLookup over the reported catalogs: the
// columns of table at site, when the site described them.
func (c *Coordinator) siteColumns(site, table string) ([]planner.ColumnSchema, bool) {
	r := c.catalogs.get(site)
	if r == nil || !r.Declared {
		return nil, false
	}
	t := r.Table(table)
	if t == nil || t.Error != "" {
		return nil, false
	}
	return t.Columns, true
}

// checkCatalog refuses q before any site is contacted when no site that
// takes part holds its table, or a site that takes part has described the
// table without a column q uses.
func (c *Coordinator) checkCatalog(q *planner.Query, participants, lacking []string) error {
	if len(participants) == 0 && len(lacking) > 0 {
		held := make([]string, 0, len(lacking))
		for _, s := range lacking {
			held = append(held, fmt.Sprintf("%s: %s", s, strings.Join(c.siteTables(s), ", ")))
		}
		table := q.Table
		if q.Join != nil {
			table += " and " + q.Join.Table
		}
		return &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeUnknownTable,
			Message: fmt.Sprintf("no site holds %s (tables by site: %s)", table, strings.Join(held, "; "))}
	}
	if err := planner.CheckColumns(q, participants, c.siteColumns); err != nil {
		return &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeUnknownColumn, Message: err.Error()}
	}
	return nil
}

func tableNames(r *flight.CatalogResult) []string {
	out := make([]string, 0, len(r.Tables))
	for _, t := range r.Tables {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}
