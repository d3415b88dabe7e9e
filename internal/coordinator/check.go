package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
)

// Check is what `coordinator -check-config` does after the file
// validated: it builds, offline, what the coordinator would build at
// start without a live service — the files identity, the audit signing
// key, the review keys, the analyst credential verifier (a JWKS file) and
// the coordinator policy when it is a bundle path (loaded and compiled).
// It opens no listener, site connection, Workload API socket or Vault
// connection and fetches no URL; those are returned as not checked.
func Check(ctx context.Context, f *config.Coordinator, logger *slog.Logger) (notChecked []string, err error) {
	var errs []error
	nc, ierr := f.Identity.CheckIdentity("identity")
	notChecked = append(notChecked, nc...)
	switch {
	case ierr != nil:
		errs = append(errs, ierr)
	case f.Identity.Source == "" || f.Identity.Source == "files":
		if _, err := certs.LoadFiles(f.Identity.Cert, f.Identity.Key, f.Identity.Bundle); err != nil {
			errs = append(errs, fmt.Errorf("identity: %w", err))
		}
	}
	if _, err := config.AuditOptions(f.Audit); err != nil {
		errs = append(errs, err)
	}
	if len(f.Review.PublicKeys) > 0 {
		if _, err := audit.LoadKeyring(f.Review.PublicKeys...); err != nil {
			errs = append(errs, fmt.Errorf("review.public_keys: %w", err))
		}
	}
	if f.AnalystCredentials != nil {
		if _, err := f.AnalystCredentials.Verifier(logger); err != nil {
			errs = append(errs, err)
		}
	}
	if f.Policy != nil {
		src, _, err := resultPolicySource(f.Policy, logger)
		switch {
		case err != nil:
			errs = append(errs, err)
		case f.Policy.URL != "":
			notChecked = append(notChecked, "policy.url (the bundle server)")
		default:
			if _, err := src.Poll(ctx); err != nil {
				errs = append(errs, fmt.Errorf("policy.bundle: %w", err))
			}
		}
	}
	notChecked = append(notChecked, "sites[*].address (the site agents)")
	return notChecked, errors.Join(errs...)
}
