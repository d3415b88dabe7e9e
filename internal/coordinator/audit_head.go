package coordinator

import (
	"encoding/json"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/logkey"
)

// siteHead decodes the signed audit head a site sent with its result, to
// keep in the query's audit record; nil when the site sent none. The
// coordinator does not check the signature here — it has no reason to
// trust or distrust it now; `fedctl audit verify --federation` checks it
// later against the site's log and key.
func (c *Coordinator) siteHead(site, raw string) *audit.SignedHead {
	if raw == "" {
		return nil
	}
	var h audit.SignedHead
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		c.log.Warn("site sent an unreadable audit head; not recorded", logkey.Site, site, logkey.Err, err)
		return nil
	}
	return &h
}
