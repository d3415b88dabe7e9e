package coordinator

import (
	"net/http"
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// Explain plans sql as Query would and returns the logical plan, each
// participating site's engine SQL in that site's dialect, and the merge
// plan. It contacts no site and runs nothing, so it is not audited.
func (c *Coordinator) Explain(an Analyst, sql, purpose string) (*planner.Explanation, error) {
	q, err := parse(sql)
	if err != nil {
		return nil, err
	}
	sites := make([]planner.SiteDialect, 0, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		sites = append(sites, planner.SiteDialect{Site: s.Name, Dialect: s.Dialect, Tables: s.Tables})
	}
	meta := planner.SubPlanMeta{QueryID: "explain", Analyst: an.ID, Roles: an.Roles, Purpose: purpose,
		Deadline: time.Now().Add(c.cfg.QueryTimeout)}
	ex, err := planner.Explain(q, sites, meta)
	if err != nil {
		return nil, &QueryError{HTTPStatus: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
	}
	c.log.Info("explain", "analyst", an.ID, "sites", len(ex.Sites))
	return ex, nil
}

// siteHas reports whether site holds logical table (a site that declares
// no tables holds every table).
func (c *Coordinator) siteHas(site, table string) bool {
	for _, s := range c.cfg.Sites {
		if s.Name != site {
			continue
		}
		if s.Tables == nil {
			return true
		}
		for _, t := range s.Tables {
			if t == table {
				return true
			}
		}
		return false
	}
	return false
}
