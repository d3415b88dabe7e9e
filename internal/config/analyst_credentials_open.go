package config

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fedmesh/fedmesh/internal/credential"
)

// Verifier builds the credential verifier of a validated block. A JWKS
// file is read now; errors name the block.
func (a *AnalystCredentials) Verifier(logger *slog.Logger) (*credential.Verifier, error) {
	leeway := credential.DefaultLeeway
	if a.Leeway != nil {
		leeway = time.Duration(*a.Leeway)
		if leeway == 0 {
			leeway = -1 // none; credential.Config reads 0 as the default
		}
	}
	v, err := credential.New(credential.Config{
		Issuer:       a.Issuer,
		Audience:     a.Audience,
		JWKSFile:     a.JWKSFile,
		JWKSURL:      a.JWKSURL,
		FetchTimeout: time.Duration(a.JWKSTimeout),
		MinRefetch:   time.Duration(a.JWKSMinRefetch),
		MaxKeyAge:    time.Duration(a.JWKSMaxAge),
		Algorithms:   a.Algorithms,
		RolesClaim:   a.RolesClaim,
		MaxLifetime:  time.Duration(a.MaxLifetime),
		Leeway:       leeway,
		Logger:       logger,
	})
	if err != nil {
		return nil, fmt.Errorf("analyst_credentials: %w", err)
	}
	return v, nil
}
