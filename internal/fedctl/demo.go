package fedctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/internal/sampledata"
)

// demoInit lays out a complete local federation in one directory: a dev
// trust domain, sample data per site, one config per process and an
// analyst token. Everything binds to 127.0.0.1.
func demoInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo init", stderr)
	dir := fs.String("dir", "", "directory to create (required)")
	sites := fs.String("sites", "a,b,c", "comma-separated site names")
	rows := fs.Int("rows", 30000, "sales rows per site")
	basePort := fs.Int("base-port", 7101, "first site agent port; the coordinator's HTTP API listens on base-port-1")
	bundle := fs.String("bundle", config.BuiltinDefaultBundle, "policy bundle for every site (a directory, or builtin:default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("%w: --dir is required", errUsage)
	}
	names := splitList(*sites)
	if len(names) == 0 {
		return fmt.Errorf("%w: --sites names no site", errUsage)
	}
	if *bundle != config.BuiltinDefaultBundle {
		abs, err := filepath.Abs(*bundle)
		if err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		*bundle = abs
	}
	if err := os.MkdirAll(filepath.Join(*dir, "audit"), 0o700); err != nil {
		return err
	}
	const td = "example.org"
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td, OutDir: filepath.Join(*dir, "certs"), Sites: names, Force: true}); err != nil {
		return fmt.Errorf("dev CA: %w", err)
	}

	// A dev identity provider: analysts' signed credentials (fedctl token)
	// that every site verifies itself; the default bundle's protected
	// tables (customers) answer only such analysts, with differential
	// privacy. The static analyst token still serves exact tables.
	if _, _, err := credential.WriteDevIssuer(filepath.Join(*dir, "certs"), true); err != nil {
		return fmt.Errorf("dev analyst issuer: %w", err)
	}
	notRequired := false
	creds := func(site bool) *config.AnalystCredentials {
		c := &config.AnalystCredentials{Issuer: credential.DevIssuerName, Audience: "fedmesh",
			JWKSFile: "certs/" + credential.DevIssuerJWKSFile}
		if site {
			c.Required = &notRequired
		}
		return c
	}
	coord := config.Coordinator{
		AnalystCredentials: creds(false),
		Listen:             "127.0.0.1:" + strconv.Itoa(*basePort-1),
		Identity:           config.Identity{Source: "files", Cert: "certs/coordinator.pem", Key: "certs/coordinator-key.pem", Bundle: "certs/bundle.pem"},
		Audit:              config.Audit{Path: "audit/coordinator.log", SigningKey: "audit-keys/coordinator.pem"},
	}
	pubs, err := demoAuditKeys(*dir, names)
	if err != nil {
		return err
	}
	coord.Review.PublicKeys = pubs
	for i, s := range names {
		files, err := sampledata.Generate(ctx, filepath.Join(*dir, "data", s), s, sampledata.Options{Seed: 42, SalesRows: *rows})
		if err != nil {
			return fmt.Errorf("sample data for site %q: %w", s, err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(*basePort+i)
		ag := config.Agent{
			Site:                s,
			Listen:              addr,
			Identity:            config.Identity{Source: "files", Cert: "certs/site-" + s + ".pem", Key: "certs/site-" + s + "-key.pem", Bundle: "certs/bundle.pem"},
			AllowedCoordinators: []string{"spiffe://" + td + "/coordinator"},
			Tables: []config.Table{
				{Name: "sales", Format: "parquet", Path: rel(*dir, files.Sales)},
				{Name: "customers", Format: "parquet", Path: rel(*dir, files.Customers)},
			},
			Policy:             config.Policy{Bundle: *bundle},
			Audit:              config.Audit{Path: "audit/site-" + s + ".log", SigningKey: "audit-keys/site-" + s + ".pem"},
			AnalystCredentials: creds(true),
		}
		if err := writeYAML(filepath.Join(*dir, "site-"+s+".yaml"), ag); err != nil {
			return err
		}
		coord.Sites = append(coord.Sites, config.Site{Name: s, Address: addr, SPIFFEID: "spiffe://" + td + "/site/" + s})
		coord.Review.Logs = append(coord.Review.Logs, "audit/site-"+s+".log")
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	sum := coordinator.TokenHash(token)
	coord.Analysts = []config.Analyst{{ID: "alice", Roles: []string{"analyst"}, TokenSHA256: hex.EncodeToString(sum[:])}}
	auditorToken, err := demoAuditor(*dir, &coord)
	if err != nil {
		return err
	}
	if err := writeYAML(filepath.Join(*dir, "coordinator.yaml"), coord); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "analyst.token"), []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo federation in %s: coordinator on %s, sites %v from port %d; analyst token in %s\n",
		*dir, coord.Listen, names, *basePort, filepath.Join(*dir, "analyst.token"))
	fmt.Fprintf(stdout, "audit review page: http://%s/audit/?token=%s (auditor token in %s)\n", coord.Listen, auditorToken, filepath.Join(*dir, "auditor.token"))
	return nil
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}

func writeYAML(path string, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
