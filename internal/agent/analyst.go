package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/planner"
)

// credentialVerifier is what the site needs of credential.Verifier.
type credentialVerifier interface {
	Verify(ctx context.Context, raw string) (*credential.Analyst, error)
}

// verifyAnalyst establishes who asks, by the site's own check (invariant 7).
// A sub-plan that carries a credential has it verified: the analyst and
// roles then come from the credential, and a ticket naming someone else is
// refused, because the coordinator then lies about who asks. Without a
// credential the site either refuses (RequireCredential) or takes the
// coordinator's word, which policy sees as analyst.verified = false: tables
// under differential privacy, whose budgets are per analyst, refuse it.
// rec's analyst and roles follow what was established.
func (h *handler) verifyAnalyst(ctx context.Context, sp *planner.SubPlan, rec *audit.Record) (verified bool, err error) {
	deny := func(format string, args ...any) error {
		reason := fmt.Sprintf(format, args...)
		rec.Decision, rec.Reasons = audit.DecisionDeny, []string{reason}
		return &flight.DeniedError{Site: h.site, Reasons: rec.Reasons}
	}
	if sp.Credential == "" {
		if h.requireCredential {
			return false, deny("fedmesh.credential: site %s answers only analysts whose signed credential it verifies itself, and the sub-plan carries none; sign in with the organisation's identity provider (e.g. fedctl token) instead of a static token", h.site)
		}
		return false, nil
	}
	if h.verifier == nil {
		// The site cannot check it, so it proves nothing here.
		return false, nil
	}
	a, err := h.verifier.Verify(ctx, sp.Credential)
	if errors.Is(err, credential.ErrUnavailable) {
		rec.Decision, rec.Error = audit.DecisionError, err.Error()
		return false, fmt.Errorf("site %q: cannot verify the analyst's credential now: %w", h.site, err)
	}
	if err != nil {
		return false, deny("fedmesh.credential: site %s refused the analyst's credential: %v", h.site, err)
	}
	if sp.Analyst != "" && sp.Analyst != a.ID {
		return false, deny("fedmesh.credential: the sub-plan names analyst %q but the credential is %q's; site %s takes the analyst from the credential and refuses a mismatch", sp.Analyst, a.ID, h.site)
	}
	sp.Analyst, sp.Roles = a.ID, a.Roles
	rec.Analyst, rec.Roles = a.ID, a.Roles
	if rec.Details == nil {
		rec.Details = map[string]any{}
	}
	rec.Details["credential"] = map[string]any{"issuer": a.Issuer, "token_id": a.TokenID, "expires": a.Expires}
	return true, nil
}
