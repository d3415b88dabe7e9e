package credential

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Algorithm names a signature algorithm a Verifier may accept.
const (
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	RS256 = "RS256" // RSA PKCS#1 v1.5 with SHA-256
)

// DefaultAlgorithms are accepted when Config.Algorithms is empty.
var DefaultAlgorithms = []string{EdDSA, ES256, RS256}

// supported reports whether alg is one a Verifier can be configured with.
// HS*, none and the rest are not, whatever the configuration says.
func supported(alg string) bool {
	return alg == EdDSA || alg == ES256 || alg == RS256
}

// minRSABits refuses RSA keys too short to be trusted.
const minRSABits = 2048

// maxKeys bounds a key set so a hostile or broken JWKS cannot exhaust memory.
const maxKeys = 100

// verificationKey is one usable public key of the issuer.
type verificationKey struct {
	alg string // the one algorithm this key verifies (EdDSA, ES256, RS256)
	pub any    // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
}

// keySet maps key ids to keys.
type keySet map[string]verificationKey

// parseKeySet reads a JWKS document. Keys that cannot sign analyst
// credentials (symmetric keys, encryption keys, unsupported types or
// curves, keys without a kid) are left out and described in skipped; a
// document that is not a key set, repeats a kid or leaves no usable key is
// an error.
func parseKeySet(b []byte) (keySet, []string, error) {
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	if set.Len() > maxKeys {
		return nil, nil, fmt.Errorf("%d keys; at most %d are accepted", set.Len(), maxKeys)
	}
	keys := keySet{}
	var skipped []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		if kid == "" {
			skipped = append(skipped, fmt.Sprintf("key %d has no kid", i))
			continue
		}
		if _, dup := keys[kid]; dup {
			return nil, nil, fmt.Errorf("key id %q appears twice", kid)
		}
		vk, why := usableKey(k)
		if why != "" {
			skipped = append(skipped, fmt.Sprintf("key %q: %s", kid, why))
			continue
		}
		keys[kid] = vk
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("no usable signature key (%s)", strings.Join(skipped, "; "))
	}
	return keys, skipped, nil
}

// usableKey returns the public key k holds and the one algorithm it
// verifies, or why it cannot be used.
func usableKey(k jwk.Key) (verificationKey, string) {
	if use, ok := k.KeyUsage(); ok && use != "sig" {
		return verificationKey{}, fmt.Sprintf("use %q is not sig", use)
	}
	pk, err := jwk.PublicKeyOf(k)
	if err != nil {
		return verificationKey{}, fmt.Sprintf("kty %q cannot verify signatures", k.KeyType().String())
	}
	var raw any
	if err := jwk.Export(pk, &raw); err != nil {
		return verificationKey{}, fmt.Sprintf("unreadable: %v", err)
	}
	var vk verificationKey
	switch p := raw.(type) {
	case ed25519.PublicKey:
		vk = verificationKey{alg: EdDSA, pub: p}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return verificationKey{}, fmt.Sprintf("EC curve %s is not supported (P-256 only)", p.Curve.Params().Name)
		}
		vk = verificationKey{alg: ES256, pub: p}
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return verificationKey{}, fmt.Sprintf("RSA key of %d bits is too short (at least %d)", p.N.BitLen(), minRSABits)
		}
		vk = verificationKey{alg: RS256, pub: p}
	default:
		// Symmetric keys land here: a shared secret never verifies an
		// analyst credential.
		return verificationKey{}, fmt.Sprintf("kty %q cannot verify analyst credentials", k.KeyType().String())
	}
	if a, ok := k.Algorithm(); ok && a.String() != vk.alg {
		return verificationKey{}, fmt.Sprintf("declares alg %q, but a %s key only verifies %s", a.String(), k.KeyType().String(), vk.alg)
	}
	return vk, ""
}

var errNoKeys = errors.New("no keys loaded")
