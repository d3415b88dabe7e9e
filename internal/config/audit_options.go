package config

import (
	"fmt"
	"time"

	"github.com/fedmesh/fedmesh/audit"
)

// AuditOptions turns a validated audit section into audit.Options, loading
// the signing key. Logger, Component and Site are left to the daemon.
func AuditOptions(a Audit) (audit.Options, error) {
	opts := audit.Options{
		SignEvery:    a.SignEvery,
		SignInterval: time.Duration(a.SignInterval),
		RotateSize:   a.RotateBytes,
		RotateAge:    time.Duration(a.RotateAge),
	}
	if a.SigningKey != "" {
		s, err := audit.LoadSigner(a.SigningKey)
		if err != nil {
			return audit.Options{}, fmt.Errorf("audit.signing_key: %w", err)
		}
		opts.Signer = s
	}
	return opts, nil
}
