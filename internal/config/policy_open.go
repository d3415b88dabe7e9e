package config

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fedmesh/fedmesh/policy"
)

// Source builds the bundle source c names — an HTTP bundle server for URL,
// else the bundle path — with signature verification when Signing is set,
// and returns it with its poll interval. It does not handle
// BuiltinDefaultBundle: the caller decides what the built-in bundle means
// for it.
func (c Policy) Source(logger *slog.Logger) (policy.Source, time.Duration, error) {
	var opts policy.LoadOptions
	if c.Signing != nil {
		keys := make([]policy.VerificationKey, 0, len(c.Signing.Keys))
		for _, k := range c.Signing.Keys {
			pem, err := k.ReadKey()
			if err != nil {
				return nil, 0, fmt.Errorf("policy.signing: %w", err)
			}
			keys = append(keys, policy.VerificationKey{ID: k.ID, Algorithm: k.Algorithm, Key: pem})
		}
		vc, err := policy.NewVerificationConfig(keys, c.Signing.SignatureRequired())
		if err != nil {
			return nil, 0, fmt.Errorf("policy.signing: %w", err)
		}
		opts.Verification = vc
	}
	poll := time.Duration(c.PollInterval)
	if c.URL != "" {
		return &policy.HTTPSource{URL: c.URL, Options: opts, Logger: logger}, poll, nil
	}
	return &policy.PathSource{Path: c.Bundle, Options: opts, Logger: logger}, poll, nil
}
