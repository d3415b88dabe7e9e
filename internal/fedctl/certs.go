package fedctl

import (
	"fmt"
	"io"
	"time"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/credential"
)

func certsInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("certs init", stderr)
	td := fs.String("trust-domain", "example.org", "SPIFFE trust domain")
	out := fs.String("out", "", "output directory (required)")
	sites := fs.String("sites", "", "comma-separated site names (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "SVID lifetime")
	force := fs.Bool("force", false, "overwrite an existing CA in --out")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || *sites == "" {
		return fmt.Errorf("%w: --out and --sites are required", errUsage)
	}
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: *td, OutDir: *out, Sites: splitList(*sites), TTL: *ttl, Force: *force}); err != nil {
		return err
	}
	keyPath, jwksPath, err := credential.WriteDevIssuer(*out, *force)
	if err != nil {
		return fmt.Errorf("dev analyst issuer: %w", err)
	}
	fmt.Fprintf(stdout, "dev trust domain %s written to %s (coordinator + sites %s); SVIDs valid for %s\n", *td, *out, *sites, *ttl)
	fmt.Fprintf(stdout, "dev analyst issuer %q: private key %s, public keys %s (analyst_credentials.jwks_file); mint with: fedctl token --key %s --sub alice\n",
		credential.DevIssuerName, keyPath, jwksPath, keyPath)
	return nil
}
