package config

import (
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Identity says where a component's X.509-SVID and trust bundles come from.
//
//	source: files    cert, key, bundle (+ federated_bundles, reload_interval)
//	source: spire    spire.socket (+ spiffe_id to pick one of several SVIDs)
//	source: vault    vault.address, vault.role, spiffe_id (+ token_file, mount, ttl)
type Identity struct {
	Source string `yaml:"source"` // "files" (default), "spire", "vault"

	// files
	Cert   string `yaml:"cert,omitempty"`
	Key    string `yaml:"key,omitempty"`
	Bundle string `yaml:"bundle,omitempty"`
	// FederatedBundles are the bundles of other trust domains whose peers
	// this component talks to (SPIFFE federation).
	FederatedBundles []FederatedBundle `yaml:"federated_bundles,omitempty"`
	// ReloadInterval is how often the files are checked for changes
	// (default 5s).
	ReloadInterval Duration `yaml:"reload_interval,omitempty"`

	// SPIFFEID is, for spire, the SVID to use when the Workload API offers
	// several (default: the first); for vault, the ID to request.
	SPIFFEID string `yaml:"spiffe_id,omitempty"`

	SPIRE *SPIREIdentity `yaml:"spire,omitempty"`
	Vault *VaultIdentity `yaml:"vault,omitempty"`
}

// FederatedBundle is the trust bundle file of another trust domain.
type FederatedBundle struct {
	TrustDomain string `yaml:"trust_domain"`
	Bundle      string `yaml:"bundle"`
}

// SPIREIdentity reaches the SPIRE agent's Workload API.
type SPIREIdentity struct {
	// Socket is the Workload API address, "unix:///run/spire/agent.sock".
	Socket string `yaml:"socket"`
}

// VaultIdentity asks Vault's PKI secrets engine for the SVID.
type VaultIdentity struct {
	Address string `yaml:"address"` // https://vault.example:8200
	// TokenFile holds the Vault token; empty means $VAULT_TOKEN.
	TokenFile string `yaml:"token_file,omitempty"`
	Mount     string `yaml:"mount,omitempty"` // default "pki"
	Role      string `yaml:"role"`
	// TTL requested for each SVID (default: the role's); the SVID is
	// renewed when two thirds of its lifetime have passed.
	TTL Duration `yaml:"ttl,omitempty"`
	// CACert is a PEM file to verify Vault's own TLS certificate with.
	CACert string `yaml:"ca_cert,omitempty"`
}

func (id *Identity) validate(path, file string, p *problems) {
	if id.Source == "" {
		id.Source = "files"
	}
	notFor := func(field string, set bool) {
		if set {
			p.add(path+"."+field, "not used with source %q", id.Source)
		}
	}
	switch id.Source {
	case "files":
		for _, f := range []struct{ name, val string }{{"cert", id.Cert}, {"key", id.Key}, {"bundle", id.Bundle}} {
			if f.val == "" {
				p.add(path+"."+f.name, "%v", errEmpty)
			}
		}
		id.Cert, id.Key, id.Bundle = resolve(file, id.Cert), resolve(file, id.Key), resolve(file, id.Bundle)
		seen := map[string]bool{}
		for i := range id.FederatedBundles {
			fb := &id.FederatedBundles[i]
			fp := fmt.Sprintf("%s.federated_bundles[%d]", path, i)
			if _, err := spiffeid.TrustDomainFromString(fb.TrustDomain); err != nil {
				p.add(fp+".trust_domain", "%q is not a trust domain: %v", fb.TrustDomain, err)
			} else if seen[fb.TrustDomain] {
				p.add(fp+".trust_domain", "trust domain %q is listed twice", fb.TrustDomain)
			}
			seen[fb.TrustDomain] = true
			if fb.Bundle == "" {
				p.add(fp+".bundle", "%v", errEmpty)
			}
			fb.Bundle = resolve(file, fb.Bundle)
		}
		if id.ReloadInterval < 0 {
			p.add(path+".reload_interval", "must not be negative")
		}
		notFor("spire", id.SPIRE != nil)
		notFor("vault", id.Vault != nil)
		notFor("spiffe_id", id.SPIFFEID != "")
	case "spire":
		if id.SPIRE == nil || id.SPIRE.Socket == "" {
			p.add(path+".spire.socket", "%v (the SPIRE agent's Workload API, unix:///path/agent.sock)", errEmpty)
		} else if !strings.HasPrefix(id.SPIRE.Socket, "unix://") && !strings.HasPrefix(id.SPIRE.Socket, "tcp://") {
			p.add(path+".spire.socket", "%q must start with unix:// or tcp://", id.SPIRE.Socket)
		}
		if id.SPIFFEID != "" {
			checkID(path+".spiffe_id", id.SPIFFEID, p)
		}
		id.notFiles(path, notFor)
		notFor("vault", id.Vault != nil)
	case "vault":
		v := id.Vault
		if v == nil {
			v = &VaultIdentity{}
			id.Vault = v
		}
		if !strings.HasPrefix(v.Address, "http://") && !strings.HasPrefix(v.Address, "https://") {
			p.add(path+".vault.address", "%q must be an http:// or https:// URL", v.Address)
		}
		if v.Role == "" {
			p.add(path+".vault.role", "%v (a PKI role allowing spiffe://<trust domain>/* URI SANs)", errEmpty)
		}
		if v.Mount == "" {
			v.Mount = "pki"
		}
		if v.TTL < 0 {
			p.add(path+".vault.ttl", "must not be negative")
		}
		if v.TokenFile != "" {
			v.TokenFile = resolve(file, v.TokenFile)
		}
		if v.CACert != "" {
			v.CACert = resolve(file, v.CACert)
		}
		checkID(path+".spiffe_id", id.SPIFFEID, p)
		id.notFiles(path, notFor)
		notFor("spire", id.SPIRE != nil)
	default:
		p.add(path+".source", "unknown identity source %q (supported: files, spire, vault)", id.Source)
	}
}

func (id *Identity) notFiles(path string, notFor func(string, bool)) {
	notFor("cert", id.Cert != "")
	notFor("key", id.Key != "")
	notFor("bundle", id.Bundle != "")
	notFor("federated_bundles", len(id.FederatedBundles) > 0)
	notFor("reload_interval", id.ReloadInterval != 0)
}

// checkAllowEntry checks a peer allow-list entry: a SPIFFE ID, or a
// trust-domain path prefix ending in "/*" (spiffe://td/site/* or
// spiffe://td/*).
func checkAllowEntry(path, entry string, p *problems) {
	base, prefix := strings.CutSuffix(entry, "/*")
	id, err := spiffeid.FromString(base)
	switch {
	case entry == "":
		p.add(path, "%v", errEmpty)
	case err != nil:
		p.add(path, "%q is not a SPIFFE ID or spiffe://<trust domain>/<path>/* prefix: %v", entry, err)
	case !prefix && id.Path() == "":
		p.add(path, "%q names a trust domain, not a workload; write %s/* to allow all of it", entry, entry)
	}
}
