package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Files of the development issuer `fedctl certs init` writes.
const (
	DevIssuerKeyFile  = "analyst-issuer-key.jwk" // private Ed25519 JWK, 0600
	DevIssuerJWKSFile = "analyst-issuer.jwks"    // the public key set sites and the coordinator trust
	// DevIssuerName is the iss `fedctl token` writes unless told otherwise.
	DevIssuerName = "https://fedmesh.invalid/dev-issuer"
	// DevAudience is the aud `fedctl token` writes unless told otherwise.
	DevAudience = "fedmesh"
)

// Issuer mints analyst credentials signed with one Ed25519 key. It stands
// in for the organisation's identity provider in development and tests;
// production credentials come from the real one.
type Issuer struct {
	// Name is the iss of every credential minted.
	Name string
	// RolesClaim is where Mint puts the roles (default "roles"); a dotted
	// path nests them (realm_access.roles).
	RolesClaim string
	// Now is the clock (default time.Now).
	Now func() time.Time

	key jwk.Key // private, with kid and alg
}

// NewIssuer makes an issuer with a fresh key whose kid is its thumbprint.
func NewIssuer(name string) (*Issuer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	k, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	if err := jwk.AssignKeyID(k); err != nil {
		return nil, err
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, err
	}
	if err := k.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, err
	}
	return &Issuer{Name: name, key: k}, nil
}

// LoadIssuer reads a private Ed25519 JWK written by PrivateJWK.
func LoadIssuer(name, keyFile string) (*Issuer, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	k, err := jwk.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("issuer key %s: not a JWK: %w", keyFile, err)
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("issuer key %s: %w", keyFile, err)
	}
	if _, ok := raw.(ed25519.PrivateKey); !ok {
		return nil, fmt.Errorf("issuer key %s: want a private Ed25519 key (kty OKP, crv Ed25519, with d)", keyFile)
	}
	if kid, _ := k.KeyID(); kid == "" {
		return nil, fmt.Errorf("issuer key %s: has no kid", keyFile)
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, err
	}
	return &Issuer{Name: name, key: k}, nil
}

// KeyID is the kid every minted credential names.
func (i *Issuer) KeyID() string {
	kid, _ := i.key.KeyID()
	return kid
}

// PrivateJWK is the issuer's private key as a JWK document. Keep it secret.
func (i *Issuer) PrivateJWK() ([]byte, error) { return json.MarshalIndent(i.key, "", "  ") }

// PublicJWKS is the key set that verifies the issuer's credentials.
func (i *Issuer) PublicJWKS() ([]byte, error) {
	pub, err := jwk.PublicKeyOf(i.key)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return json.MarshalIndent(set, "", "  ")
}

// Mint signs a credential for subject with roles, valid for audience from
// now for ttl, with a random jti.
func (i *Issuer) Mint(subject string, roles []string, audience string, ttl time.Duration) (string, error) {
	switch {
	case subject == "":
		return "", errors.New("mint: subject must be set")
	case audience == "":
		return "", errors.New("mint: audience must be set")
	case ttl <= 0:
		return "", errors.New("mint: ttl must be positive")
	case i.Name == "":
		return "", errors.New("mint: the issuer has no name (iss)")
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	t := now().Truncate(time.Second)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti) // crypto/rand.Read never fails
	c := map[string]any{
		"iss": i.Name,
		"sub": subject,
		"aud": audience,
		"iat": t.Unix(),
		"exp": t.Add(ttl).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	}
	if roles == nil {
		roles = []string{}
	}
	setPath(c, i.RolesClaim, roles)
	return i.Sign(c)
}

// Sign signs arbitrary claims with the issuer's key. It is for tests that
// need a credential Mint would not make (no sub, a long lifetime, …).
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, i.KeyID()); err != nil {
		return "", err
	}
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", err
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), i.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	return string(out), nil
}

// setPath puts v at a dotted path in c (default "roles").
func setPath(c map[string]any, path string, v any) {
	if path == "" {
		path = DefaultRolesClaim
	}
	segs := strings.Split(path, ".")
	for _, s := range segs[:len(segs)-1] {
		next, ok := c[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			c[s] = next
		}
		c = next
	}
	c[segs[len(segs)-1]] = v
}

// WriteDevIssuer makes a development issuer key in dir: DevIssuerKeyFile
// (private, 0600) and DevIssuerJWKSFile (its public key set). Existing
// files are refused unless force is set.
func WriteDevIssuer(dir string, force bool) (keyPath, jwksPath string, err error) {
	iss, err := NewIssuer(DevIssuerName)
	if err != nil {
		return "", "", err
	}
	priv, err := iss.PrivateJWK()
	if err != nil {
		return "", "", err
	}
	pub, err := iss.PublicJWKS()
	if err != nil {
		return "", "", err
	}
	keyPath, jwksPath = filepath.Join(dir, DevIssuerKeyFile), filepath.Join(dir, DevIssuerJWKSFile)
	if !force {
		for _, p := range []string{keyPath, jwksPath} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", fmt.Errorf("%s exists; keep the issuer it belongs to, or replace both files (force)", p)
			}
		}
	}
	if err := writeNew(keyPath, priv, 0o600, force); err != nil {
		return "", "", err
	}
	if err := writeNew(jwksPath, pub, 0o644, force); err != nil {
		return "", "", err
	}
	return keyPath, jwksPath, nil
}

func writeNew(path string, b []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
