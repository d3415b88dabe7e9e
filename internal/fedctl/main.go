package fedctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

const usage = `usage: fedctl <command> [flags]

commands (those that talk to the coordinator take --coordinator URL, default
$FEDMESH_COORDINATOR or http://127.0.0.1:8080, and --ca PEM for an https coordinator
with a private CA, default $FEDMESH_CA, else the system pool):
  certs init    --trust-domain TD --out DIR --sites a,b,c   make a dev CA and SVIDs, and a dev analyst issuer
                                                            (analyst-issuer-key.jwk, analyst-issuer.jwks)
  certs inspect FILE [--bundle B]...                         an SVID's SPIFFE ID, trust domain, expiry; checks its chain
  token         --sub ID [--role R]... [--ttl 15m] [--key certs/analyst-issuer-key.jwk]
                [--issuer I] [--audience fedmesh] [--roles-claim roles]
                                                            mint a dev analyst credential (JWT) with the dev issuer
                                                            of certs init; prints only the token (for FEDMESH_TOKEN);
                                                            roles default to analyst
  demo init     --dir DIR [--sites a,b,c] [--rows N]         certs, sample data and configs for a local federation
  query         --coordinator URL [--format table|csv|json] [--epsilon E] "SQL"|-
                                                            - reads the SQL from stdin; on a terminal, a live
                                                            per-site progress line on stderr (async API)
                                                            protected tables answer with differential privacy:
                                                            noisy values with 95% intervals, and each site's charge
  budget        --coordinator URL [--format table|json] TABLE
                                                            your privacy budget for TABLE at each site, from the
                                                            sites' own ledgers
  tables        --coordinator URL [--format table|json]     the federation's logical tables and the sites holding them
  describe      --coordinator URL [--format table|json] TABLE
                                                            a logical table's columns and types
  explain       --coordinator URL [--format text|json] "SQL"   (plans only; runs nothing)
  audit verify  [--key PUB]... [--federation] [--json] FILE...
                                                            check audit logs' hash chains and signed heads;
                                                            --federation cross-checks sites against the coordinator
  audit query   [--since T] [--until T] [--analyst A] [--site S] [--decision D] [--query-id Q]
                [--format table|json] FILE...                find records; json is the SIEM export (audit/SCHEMA.md)
  audit keygen  --out FILE                                   make an ed25519 audit signing key (+ FILE.pub.pem)
  policy test   [-v] DIR...                                 run a bundle's Rego tests with OPA's test runner
  policy explain --coordinator URL [--site a,b] [--purpose P] "SQL"
                                                            each site's policy decision, reasons and
                                                            obligations, without running the query
`

// exitUsage is returned for bad command lines, exitFail for commands that
// ran and failed (a denied query, a broken audit chain).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks an error as a command-line mistake.
var errUsage = errors.New("usage")

// Main runs fedctl with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, usage)
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "fedctl: %v\n\n%s", err, usage)
		return exitUsage
	case errors.Is(err, errReported):
		return exitFail
	default:
		fmt.Fprintf(stderr, "fedctl: %v\n", err)
		return exitFail
	}
}

// errReported means the command already printed why it failed.
var errReported = errors.New("reported")

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		sub = rest[0]
	}
	switch {
	case cmd == "certs" && sub == "init":
		return certsInit(rest[1:], stdout, stderr)
	case cmd == "certs" && sub == "inspect":
		return certsInspect(rest[1:], time.Now(), stdout, stderr)
	case cmd == "token":
		return token(rest, time.Now, stdout, stderr)
	case cmd == "demo" && sub == "init":
		return demoInit(ctx, rest[1:], stdout, stderr)
	case cmd == "query":
		return query(ctx, rest, stdout, stderr)
	case cmd == "explain":
		return explain(ctx, rest, stdout, stderr)
	case cmd == "tables" || cmd == "describe":
		return tables(ctx, cmd, rest, stdout, stderr)
	case cmd == "budget":
		return budget(ctx, rest, stdout, stderr)
	case cmd == "audit" && sub == "verify":
		return auditVerify(rest[1:], stdout, stderr)
	case cmd == "audit" && sub == "keygen":
		return auditKeygen(rest[1:], stdout, stderr)
	case cmd == "audit" && sub == "query":
		return auditQuery(rest[1:], stdout, stderr)
	case cmd == "policy" && sub == "test":
		return policyTest(ctx, rest[1:], stdout, stderr)
	case cmd == "policy" && sub == "explain":
		return policyExplain(ctx, rest[1:], stdout, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		return flag.ErrHelp
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, strings.TrimSpace(cmd+" "+sub))
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fedctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
