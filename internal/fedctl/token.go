package fedctl

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/internal/credential"
)

// Defaults of `fedctl token`, matching what `fedctl certs init` writes.
var (
	defaultIssuerKey = filepath.Join("certs", credential.DevIssuerKeyFile)
	defaultRoles     = []string{"analyst"}
)

const defaultTokenTTL = 15 * time.Minute

// token mints a development analyst credential with the dev issuer key
// and prints it on stdout alone, so `export FEDMESH_TOKEN=$(fedctl token
// --sub alice)` works; what it holds goes to stderr.
func token(args []string, now func() time.Time, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	key := fs.String("key", defaultIssuerKey, "the dev issuer's private key (written by certs init)")
	issuer := fs.String("issuer", credential.DevIssuerName, "iss: must equal analyst_credentials.issuer of the coordinator and the sites")
	audience := fs.String("audience", credential.DevAudience, "aud: must equal analyst_credentials.audience")
	sub := fs.String("sub", "", "the analyst's id (required)")
	var roles listFlag
	fs.Var(&roles, "role", "a role (repeatable, or comma-separated; default "+strings.Join(defaultRoles, ",")+")")
	rolesClaim := fs.String("roles-claim", credential.DefaultRolesClaim, "claim holding the roles; a dotted path nests it (realm_access.roles)")
	ttl := fs.Duration("ttl", defaultTokenTTL, "lifetime; sites refuse tokens living longer than their max_lifetime (default 1h)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return fmt.Errorf("%w: token takes no arguments (got %q)", errUsage, fs.Args())
	case *sub == "":
		return fmt.Errorf("%w: --sub is required (the analyst's id)", errUsage)
	case *ttl <= 0:
		return fmt.Errorf("%w: --ttl must be positive", errUsage)
	}
	if len(roles) == 0 {
		roles = defaultRoles
	}
	iss, err := credential.LoadIssuer(*issuer, *key)
	if err != nil {
		return fmt.Errorf("%w (make one with: fedctl certs init)", err)
	}
	iss.RolesClaim, iss.Now = *rolesClaim, now
	tok, err := iss.Mint(*sub, roles, *audience, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	fmt.Fprintf(stderr, "credential for %s (roles %s), audience %s, issuer %s, key %s; expires %s\n",
		*sub, strings.Join(roles, ","), *audience, *issuer, iss.KeyID(), now().Add(*ttl).UTC().Format(time.RFC3339))
	return nil
}
