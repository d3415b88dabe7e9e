package agent

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/policy"
)

// evaluator is what the handler asks about each sub-plan: a *policy.Holder
// in the agent, so that a reload swaps the bundle between two requests.
type evaluator interface {
	Evaluate(ctx context.Context, in policy.Input) (policy.Decision, error)
}

var _ evaluator = (*policy.Holder)(nil)

// openPolicy loads the site's first bundle and returns the holder the
// handler evaluates against, plus the reload task to run (nil when the
// bundle does not reload). With reload configured, a first bundle that
// cannot be fetched or verified is not fatal: the agent starts with no
// policy, denies every export, and keeps polling until a good bundle
// arrives. Without reload it is fatal, since nothing would ever change.
func (a *Agent) openPolicy(ctx context.Context) (*policy.Holder, func(ctx context.Context) error, error) {
	src, poll := a.cfg.PolicySource, a.cfg.PolicyPoll
	if src == nil {
		pol, err := a.cfg.LoadPolicy(ctx)
		if err != nil {
			return nil, nil, err
		}
		a.log.Info("policy loaded", logkey.BundleRevision, pol.Revision())
		return policy.NewHolder(pol, a.cfg.Logger), nil, nil
	}
	h := policy.NewHolder(nil, a.cfg.Logger)
	pol, err := src.Poll(ctx)
	switch {
	case err != nil && poll <= 0:
		return nil, nil, err
	case err != nil:
		msg := "policy bundle refused at startup; no bundle is loaded, so every export is refused until a good one arrives"
		if errors.Is(err, policy.ErrVerification) {
			msg = "policy bundle refused at startup: signature verification failed; no bundle is loaded, so every export is refused until a good one arrives"
		}
		a.log.Error(msg, logkey.Bundle, src.String(), logkey.Err, err)
	default:
		h.Store(pol)
		a.log.Info("policy loaded", logkey.Bundle, src.String(), logkey.BundleRevision, pol.Revision())
	}
	if poll <= 0 {
		return h, nil, nil
	}
	return h, func(ctx context.Context) error {
		return policy.Watch(ctx, h, src, poll, a.cfg.Logger)
	}, nil
}

// policySource builds the bundle source from the config file: nil for the
// built-in bundle (loaded by LoadPolicy).
func policySource(c config.Policy, logger *slog.Logger) (policy.Source, time.Duration, error) {
	if c.Bundle == config.BuiltinDefaultBundle {
		return nil, 0, nil
	}
	return c.Source(logger)
}
