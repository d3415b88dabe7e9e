package coordinator

import (
	"context"

	"github.com/fedmesh/fedmesh/certs"
)

// startIdentity keeps the identity source fresh (files polled, SVIDs
// renewed) until ctx ends. Site connections ask the source on every
// handshake, so reconnects (the agents' maximum connection age) pick up a
// rotated SVID and bundle.
func (c *Coordinator) startIdentity(ctx context.Context) {
	r, ok := c.cfg.Identity.(certs.Runner)
	if !ok {
		return
	}
	go func() {
		if err := r.Run(ctx); err != nil {
			c.log.Error("identity source stopped; new connections will use the last SVID until it expires", "err", err)
		}
	}()
}
