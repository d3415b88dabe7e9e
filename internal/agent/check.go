package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/policy"
)

// Check is what `site-agent -check-config` does after the file validated:
// it builds, offline, everything the agent would build at start that does
// not need a live service — the files identity (SVID, key, bundles), the
// allow-list, the audit signing key, the analyst credential verifier (a
// JWKS file), the policy bundle (a bundle path or the built-in one:
// loaded, compiled and self-checked) — and that every table file exists.
// It opens no engine, listener, Workload API socket or Vault connection,
// and fetches no URL; those are returned as not checked. Errors carry the
// dotted path of the setting at fault.
func Check(ctx context.Context, f *config.Agent, logger *slog.Logger) (notChecked []string, err error) {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	nc, ierr := f.Identity.CheckIdentity("identity")
	notChecked = append(notChecked, nc...)
	if ierr == nil && (f.Identity.Source == "" || f.Identity.Source == "files") {
		_, ierr = certs.LoadFiles(f.Identity.Cert, f.Identity.Key, f.Identity.Bundle)
		add("identity", ierr)
	} else if ierr != nil {
		errs = append(errs, ierr)
	}
	_, aerr := certs.ParseAllow(f.AllowedCoordinators...)
	add("allowed_coordinators", aerr)
	_, aerr = config.AuditOptions(f.Audit)
	if aerr != nil {
		errs = append(errs, aerr)
	}
	if _, _, verr := analystVerifier(f, logger); verr != nil {
		errs = append(errs, verr)
	}
	switch {
	case f.Policy.Bundle == config.BuiltinDefaultBundle:
		_, perr := policy.LoadDefault(ctx, logger)
		add("policy.bundle", perr)
	case f.Policy.URL != "":
		notChecked = append(notChecked, "policy.url (the bundle server)")
		_, _, perr := f.Policy.Source(logger)
		if perr != nil {
			errs = append(errs, perr)
		}
	default:
		src, _, perr := f.Policy.Source(logger)
		if perr == nil {
			_, perr = src.Poll(ctx)
		}
		add("policy.bundle", perr)
	}
	if terr := f.CheckTables(); terr != nil {
		errs = append(errs, terr)
	}
	for i, e := range f.SiteEngines() {
		if e.Type != config.EngineDuckDB {
			field := "engine"
			if len(f.Engines) > 0 {
				field = fmt.Sprintf("engines[%d]", i)
			}
			notChecked = append(notChecked, fmt.Sprintf("%s (a %s server)", field, e.Type))
		}
	}
	if f.Vault != nil {
		notChecked = append(notChecked, "vault (secret references)")
	}
	return notChecked, errors.Join(errs...)
}
