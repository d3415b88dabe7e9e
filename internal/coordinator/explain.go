package coordinator

import (
	"context"
	"net/http"
	"time"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/explain"
)

// Explain plans sql as Query would (the same checks against the sites'
// catalogs) and returns the logical plan, each participating site's engine
// SQL in that site's dialect, the sites left out, and the merge plan. It
// runs nothing, so it is not audited; it contacts a site only to fetch a
// catalog still missing.
func (c *Coordinator) Explain(ctx context.Context, an Analyst, sql, purpose string) (*explain.Explanation, error) {
	q, _, _, err := c.plan(ctx, sql)
	if err != nil {
		return nil, err
	}
	sites := make([]explain.SiteDialect, 0, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		sites = append(sites, explain.SiteDialect{Site: s.Name, Dialect: s.Dialect, Tables: c.siteTables(s.Name)})
	}
	meta := planner.SubPlanMeta{QueryID: "explain", Analyst: an.ID, Roles: an.Roles, Purpose: purpose,
		Deadline: time.Now().Add(c.cfg.QueryTimeout)}
	ex, err := explain.Explain(q, sites, meta)
	if err != nil {
		return nil, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: err.Error()}
	}
	c.log.Info("explain", logkey.Analyst, an.ID, logkey.Sites, len(ex.Sites))
	return ex, nil
}
