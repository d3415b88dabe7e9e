package flight

import (
	"context"
	"sync"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// FanOutEach is FanOut without abort-all: every site runs to its own end,
// and a site's failure does not cancel the others. It returns the results
// of the sites that answered and the errors of those that did not, each in
// site-name order. The error is for a plan that could not be sent at all
// (as FanOut's, before anything was sent).
func (c *Client) FanOutEach(ctx context.Context, plans map[string]*planner.SubPlan) ([]SiteResult, []*SiteError, error) {
	sites, tickets, err := c.encodeAll(plans)
	if err != nil {
		return nil, nil, err
	}
	results := make([]SiteResult, len(sites))
	errs := make([]*SiteError, len(sites))
	var wg sync.WaitGroup
	for i, site := range sites {
		wg.Go(func() {
			r, err := c.fetch(ctx, site, tickets[i], plans[site])
			if err != nil {
				errs[i] = siteError(site, err)
				c.logger.Warn("site failed", logkey.Site, site, logkey.QueryID, plans[site].QueryID, logkey.Code, errs[i].Code.String(), logkey.Err, errs[i])
				return
			}
			results[i] = r
		})
	}
	wg.Wait()
	var ok []SiteResult
	var failed []*SiteError
	for i := range sites {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		ok = append(ok, results[i])
	}
	return ok, failed, nil
}
