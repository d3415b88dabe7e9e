package agent

import (
	"log/slog"

	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/credential"
)

// analystVerifier builds the verifier of the site's analyst_credentials
// block (nil without one) and whether a credential is required.
func analystVerifier(f *config.Agent, logger *slog.Logger) (*credential.Verifier, bool, error) {
	if f.AnalystCredentials == nil {
		return nil, false, nil
	}
	v, err := f.AnalystCredentials.Verifier(logger)
	if err != nil {
		return nil, false, err
	}
	return v, f.AnalystCredentials.CredentialRequired(), nil
}
