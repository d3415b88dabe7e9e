package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// ErrNoPolicy: no verified bundle has been loaded yet, so everything is
// denied.
var ErrNoPolicy = errors.New("no verified policy bundle is loaded")

// Holder holds the site's current Policy. A reload swaps in a new, fully
// loaded and self-checked Policy with one atomic store, so each evaluation
// runs against exactly one complete bundle: the old one or the new one,
// never a mix and never none once one has been loaded. It is safe for
// concurrent use.
type Holder struct {
	cur    atomic.Pointer[Policy]
	logger *slog.Logger
}

// NewHolder returns a Holder holding p, which may be nil: until a bundle is
// stored, Evaluate denies everything.
func NewHolder(p *Policy, logger *slog.Logger) *Holder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Holder{logger: logger.With(logkey.Component, "policy")}
	if p != nil {
		h.cur.Store(p)
	}
	return h
}

// Current returns the current policy, nil if none has been loaded.
func (h *Holder) Current() *Policy { return h.cur.Load() }

// Store makes p current (p must not be nil) and returns the one it replaced.
func (h *Holder) Store(p *Policy) *Policy {
	if p == nil {
		panic("policy: Holder.Store(nil) would leave the site without a policy")
	}
	return h.cur.Swap(p)
}

// Revision is the current bundle's revision, "" when none is loaded.
func (h *Holder) Revision() string {
	if p := h.cur.Load(); p != nil {
		return p.Revision()
	}
	return ""
}

// Evaluate evaluates in against the current policy. With no policy loaded
// it returns a denying Decision and an error wrapping ErrNoPolicy.
func (h *Holder) Evaluate(ctx context.Context, in Input) (Decision, error) {
	p := h.cur.Load()
	if p == nil {
		d := Decision{DecisionID: uuid.NewString(), Path: DecisionPath, Reasons: []string{fmt.Sprintf(
			"fedmesh.no_policy: site %s has no verified policy bundle loaded, so nothing is exported; ask the site's data officer to publish a valid (signed) bundle",
			in.Site)}}
		h.logger.Warn("no policy bundle loaded; denying", logkey.DecisionID, d.DecisionID, logkey.QueryID, in.QueryID, logkey.Site, in.Site)
		return d, ErrNoPolicy
	}
	return p.Evaluate(ctx, in)
}
