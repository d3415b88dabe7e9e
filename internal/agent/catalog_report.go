package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
)

// describeTimeout bounds describing one table for the catalog.
const describeTimeout = 10 * time.Second

// describeTTL is how long a table's description is reused: the coordinator
// asks every minute or so, and on engines such as Flink even an empty
// query is a job. A restarted agent describes afresh.
const describeTTL = 5 * time.Minute

// describeCache keeps recent successful table descriptions.
type describeCache struct {
	mu sync.Mutex
	m  map[string]describedTable
}

type describedTable struct {
	ts planner.TableSchema
	at time.Time
}

func (c *describeCache) get(table string, now time.Time) (planner.TableSchema, bool) {
	if c == nil {
		return planner.TableSchema{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[table]
	if !ok || now.Sub(d.at) > describeTTL {
		return planner.TableSchema{}, false
	}
	return d.ts, true
}

func (c *describeCache) put(table string, ts planner.TableSchema, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]describedTable{}
	}
	c.m[table] = describedTable{ts: ts, at: now}
}

// catalogHandler adds the catalog report (flight.ActionCatalog) to the
// site's handler. Only the coordinators the TLS config admits can ask.
type catalogHandler struct {
	*handler
	// tables are the logical tables the site declares, sorted; nil when
	// it declares none (its engine's tables are managed elsewhere).
	tables []string
	// described caches table descriptions for describeTTL (nil: none).
	described *describeCache
}

var _ flight.Cataloger = catalogHandler{}

// logicalTables lists the logical tables a site exposes: each declared
// table's logical name (its name unless logical: is set). nil when the
// site declares no table.
func logicalTables(names []string, cat planner.Catalog) []string {
	if len(names) == 0 && len(cat) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range cat.Tables() {
		seen[t], out = true, append(out, t)
	}
	physical := map[string]bool{}
	for _, tm := range cat {
		physical[tm.Physical] = true
	}
	for _, n := range names {
		if !seen[n] && !physical[n] {
			seen[n], out = true, append(out, n)
		}
	}
	return out
}

// Catalog implements flight.Cataloger: the site's logical tables with
// their logical column names and the engine's types, described by asking
// the engine for an empty result of each table. Physical table and column
// names and file paths never leave the site; a table the engine cannot
// describe is reported without columns and with a generic error, the
// details staying in the site's log (they may quote paths).
func (h catalogHandler) Catalog(ctx context.Context, peer spiffeid.ID) (*flight.CatalogResult, error) {
	res := &flight.CatalogResult{Site: h.site, Declared: h.tables != nil, Tables: []planner.TableSchema{}}
	for _, t := range h.tables {
		if ts, ok := h.described.get(t, time.Now()); ok {
			res.Tables = append(res.Tables, ts)
			continue
		}
		ts, err := h.describe(ctx, t)
		if err == nil {
			h.described.put(t, ts, time.Now())
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("site %q: describe table %q: %w", h.site, t, ctx.Err())
			}
			h.log.Warn("catalog: cannot describe table", logkey.Table, t, logkey.Err, err)
			ts = planner.TableSchema{Name: t, Error: "the site could not describe this table; see the site agent's log"}
		}
		res.Tables = append(res.Tables, ts)
	}
	h.log.Info("catalog reported", logkey.Peer, peer.String(), logkey.Tables, len(res.Tables))
	return res, nil
}

// describe asks the engine holding logical table for the schema of
// SELECT * over its physical table with LIMIT 0, rendered by the planner
// like any sub-plan, and names the columns in the federation's names.
func (h catalogHandler) describe(ctx context.Context, table string) (planner.TableSchema, error) {
	zero := int64(0)
	sp := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "catalog", Site: h.site,
		Kind: planner.KindRows, Table: table, Star: true, Limit: &zero}
	eng, dialect, _, err := h.chooseEngine(ctx, sp)
	if err != nil {
		return planner.TableSchema{}, err
	}
	psp := *sp
	if tm, ok := h.catalog[table]; ok && tm.Physical != "" {
		psp.Table = tm.Physical
	}
	sql, args, err := render.Render(&psp, dialect)
	if err != nil {
		return planner.TableSchema{}, err
	}
	// The coordinator's catalog requests queue as their own "analyst".
	done, err := h.acquire(ctx, sp, &audit.Record{})
	if err != nil {
		return planner.TableSchema{}, err
	}
	defer done()
	qctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	rdr, err := eng.Query(qctx, sql, args)
	if err != nil {
		return planner.TableSchema{}, err
	}
	schema := rdr.Schema()
	rdr.Release()
	ts := planner.TableSchema{Name: table, Columns: []planner.ColumnSchema{}}
	for _, f := range schema.Fields() {
		name, ok := h.catalog.LogicalColumn(table, f.Name)
		if !ok {
			continue
		}
		ts.Columns = append(ts.Columns, planner.ColumnSchema{Name: name, Type: typeName(f.Type)})
	}
	return ts, nil
}

// typeName names an Arrow type the way SQL users know it.
func typeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT8, arrow.UINT8:
		return "TINYINT"
	case arrow.INT16, arrow.UINT16:
		return "SMALLINT"
	case arrow.INT32, arrow.UINT32:
		return "INTEGER"
	case arrow.INT64, arrow.UINT64:
		return "BIGINT"
	case arrow.FLOAT16, arrow.FLOAT32:
		return "REAL"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.DECIMAL128, arrow.DECIMAL256:
		return "DECIMAL"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return "BLOB"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.TIME32, arrow.TIME64:
		return "TIME"
	default:
		return strings.ToUpper(t.String())
	}
}
