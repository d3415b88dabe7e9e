package config

import (
	"fmt"
	"net/url"
	"os"
	"time"
)

// Policy names where the site's policy bundle comes from. There is no
// implicit default: a site exports nothing until its data officer has chosen
// a bundle, even if that choice is the built-in one ("builtin:default").
//
// Exactly one of Bundle (a bundle directory or .tar.gz, or builtin:default)
// and URL (an OPA bundle server's bundle URL, polled with ETags) is set.
type Policy struct {
	Bundle string `yaml:"bundle,omitempty"`
	URL    string `yaml:"url,omitempty"`
	// PollInterval: how often the bundle is checked for a new version. For a
	// bundle path, 0 means no reload; for a URL the default is 30s.
	PollInterval Duration `yaml:"poll_interval,omitempty"`
	// Signing, when present, makes the agent verify bundle signatures
	// (OPA's .signatures.json, as written by `opa sign`).
	Signing *Signing `yaml:"signing,omitempty"`
}

// Signing lists the keys that may sign the site's bundles.
type Signing struct {
	Keys []SigningKey `yaml:"keys"`
	// Required refuses unsigned bundles; default true. With false, unsigned
	// bundles load, but a signed one must still verify.
	Required *bool `yaml:"required,omitempty"`
}

// SigningKey is one verification key, named by the key id `opa sign`
// writes into the signature ("default" unless --key-id is given).
type SigningKey struct {
	ID        string `yaml:"id"`
	Algorithm string `yaml:"algorithm,omitempty"` // default RS256
	// PublicKey is a PEM file with the public key (for HS256, a file with
	// the shared secret).
	PublicKey string `yaml:"public_key"`
}

// BuiltinDefaultBundle selects the bundle embedded in the binary.
const BuiltinDefaultBundle = "builtin:default"

// DefaultPolicyURLPoll is the poll interval for a bundle URL when none is set.
const DefaultPolicyURLPoll = 30 * time.Second

// SignatureRequired reports whether unsigned bundles are refused.
func (s *Signing) SignatureRequired() bool {
	return s != nil && (s.Required == nil || *s.Required)
}

// ReadKey returns the contents of k's key file.
func (k SigningKey) ReadKey() (string, error) {
	raw, err := os.ReadFile(k.PublicKey)
	if err != nil {
		return "", fmt.Errorf("policy signing key %q: %w", k.ID, err)
	}
	return string(raw), nil
}

func (c *Policy) validate(path, file string, p *problems) {
	switch {
	case c.Bundle == "" && c.URL == "":
		p.add(path+".bundle", "%v (a bundle directory or .tar.gz, %q, or set %s.url); without a policy nothing is exported", errEmpty, BuiltinDefaultBundle, path)
	case c.Bundle != "" && c.URL != "":
		p.add(path+".url", "set either %s.bundle or %s.url, not both", path, path)
	}
	if c.Bundle != "" && c.Bundle != BuiltinDefaultBundle {
		c.Bundle = resolve(file, c.Bundle)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(path+".url", "%q is not an http(s) URL", c.URL)
		}
		if c.PollInterval == 0 {
			c.PollInterval = Duration(DefaultPolicyURLPoll)
		}
	}
	if c.PollInterval < 0 {
		p.add(path+".poll_interval", "must not be negative")
	}
	if c.Bundle == BuiltinDefaultBundle && c.PollInterval != 0 {
		p.add(path+".poll_interval", "the built-in bundle cannot change; remove poll_interval")
	}
	if c.Signing == nil {
		return
	}
	if c.Bundle == BuiltinDefaultBundle {
		p.add(path+".signing", "the built-in bundle is not signed; point %s.bundle at a signed bundle or remove signing", path)
	}
	if len(c.Signing.Keys) == 0 {
		p.add(path+".signing.keys", "%v (at least one public key that may sign bundles)", errEmpty)
	}
	seen := map[string]bool{}
	for i := range c.Signing.Keys {
		k := &c.Signing.Keys[i]
		kp := fmt.Sprintf("%s.signing.keys[%d]", path, i)
		switch {
		case k.ID == "":
			p.add(kp+".id", "%v (the key id in the signature; `opa sign` uses \"default\")", errEmpty)
		case seen[k.ID]:
			p.add(kp+".id", "key id %q is listed twice", k.ID)
		}
		seen[k.ID] = true
		switch k.Algorithm {
		case "", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512":
		default:
			p.add(kp+".algorithm", "unknown algorithm %q", k.Algorithm)
		}
		if k.PublicKey == "" {
			p.add(kp+".public_key", "%v (a PEM file)", errEmpty)
		}
		k.PublicKey = resolve(file, k.PublicKey)
	}
}
