package policy

import (
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// VerificationKey is one public key (or HMAC secret) that may sign bundles,
// as in OPA's `keys` configuration.
type VerificationKey struct {
	ID        string // the key id ("keyid" in .signatures.json); the default for `opa sign` is "default"
	Algorithm string // RS256 (default), PS256, ES256, HS256, …
	Key       string // PEM public key, or the shared secret for HS*
}

// NewVerificationConfig builds OPA's bundle.VerificationConfig from keys.
// With one key, every signature is checked against it; with several, each
// signature must name its key id (`opa sign --key-id`).
// With required false, an unsigned bundle is accepted but a signed one must
// still verify; with required true, an unsigned bundle is refused.
func NewVerificationConfig(keys []VerificationKey, required bool) (*bundle.VerificationConfig, error) {
	if len(keys) == 0 {
		return nil, errors.New("bundle signing: no verification keys configured")
	}
	m := make(map[string]*bundle.KeyConfig, len(keys))
	for i, k := range keys {
		switch {
		case k.ID == "":
			return nil, fmt.Errorf("bundle signing: keys[%d]: id must be set", i)
		case k.Key == "":
			return nil, fmt.Errorf("bundle signing: key %q: key must be set", k.ID)
		case m[k.ID] != nil:
			return nil, fmt.Errorf("bundle signing: key %q is configured twice", k.ID)
		}
		alg := k.Algorithm
		if alg == "" {
			alg = "RS256"
		}
		m[k.ID] = &bundle.KeyConfig{Key: k.Key, Algorithm: alg}
	}
	// `opa sign` without --key-id writes no "kid"; OPA then needs the key id
	// from its config. With a single key there is no choice to make, so use
	// it; with several, signatures must name theirs (opa sign --key-id).
	keyID := ""
	if len(keys) == 1 {
		keyID = keys[0].ID
	}
	vc := bundle.NewVerificationConfig(m, keyID, "", nil)
	if !required {
		vc = vc.WithOptionalSignature()
	}
	return vc, nil
}
