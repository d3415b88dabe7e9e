package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// Config is a site agent's runtime configuration: typed and validated.
type Config struct {
	Site                string
	Listen              string       // host:port, used when Listener is nil
	Listener            net.Listener // optional, for tests and socket activation
	Identity            certs.Source
	AllowedCoordinators []spiffeid.ID
	// AllowedCoordinatorPrefixes also allow every ID of a trust domain at
	// or below a path (certs.IDPrefix).
	AllowedCoordinatorPrefixes []certs.IDPrefix
	// MaxConnectionAge has the coordinator reconnect (and re-authenticate)
	// at least this often (default DefaultMaxConnectionAge; negative: never).
	MaxConnectionAge time.Duration
	// OpenEngine opens the site's engine; called once by Run.
	OpenEngine func(ctx context.Context) (enginebridge.Engine, error)
	LoadPolicy func(ctx context.Context) (*policy.Policy, error)
	// PolicySource, when set, replaces LoadPolicy: the bundle is polled at
	// start and, if PolicyPoll > 0, reloaded whenever it changes.
	PolicySource policy.Source
	PolicyPoll   time.Duration
	AuditPath    string
	QueryTimeout time.Duration
	// MaxConcurrent bounds sub-plans running at once; more wait in a queue
	// fair across analysts (internal/admission), so one analyst's burst
	// cannot exhaust the engine or starve another analyst.
	MaxConcurrent int
	// QueueTimeout and MaxQueue bound the wait for a slot (0: the
	// admission package's defaults); past either the site answers busy.
	QueueTimeout time.Duration
	MaxQueue     int
	Logger       *slog.Logger
	// Ready, if set, is called with the bound address once the agent serves.
	Ready func(addr net.Addr)

	// Catalog maps the federation's logical tables and columns to this
	// site's physical names; nil renders the logical names as they are.
	Catalog planner.Catalog
	// Tables lists the tables the site declares (their physical names,
	// or logical ones); with Catalog's logical names they make the logical
	// catalog the site reports to the coordinator. nil: the site declares
	// none and reports that it may hold any table.
	Tables []string

	// AuditOptions carries signing and rotation; Run fills Logger,
	// Component and Site.
	AuditOptions audit.Options

	// AnalystVerifier checks the analyst's credential a sub-plan carries
	// (invariant 7: the site verifies the analyst itself); nil: the site
	// has no analyst_credentials and takes the coordinator's word.
	// RequireCredential refuses sub-plans without a credential.
	AnalystVerifier   *credential.Verifier
	RequireCredential bool

	// LedgerPath is the site's privacy-budget ledger (privacy/ledger);
	// default: site-<name>.ledger beside the audit log.
	LedgerPath string
	// GuardPath is the site's guard store (privacy/guard): the replay
	// guard that refuses a query id presented twice, the difference-check
	// window and the durable rate limit; default: site-<name>.guard beside
	// the audit log (FromFile: in state_dir, beside the ledger).
	GuardPath string
	// MaxQueries per analyst per QueryWindow (default 1h), kept in the
	// guard store; 0: no site limit.
	MaxQueries  int64
	QueryWindow time.Duration

	// MetricsListen, if set, is the host:port of the agent's ops HTTP
	// server: Prometheus /metrics and the gRPC health service (h2c), never
	// on the Flight port. MetricsListener replaces it (tests).
	MetricsListen   string
	MetricsListener net.Listener

	// HealthInterval is how often the gRPC health status is re-probed
	// (policy loaded, engine answers); 0: DefaultHealthInterval.
	HealthInterval time.Duration
}

// FromFile builds the runtime Config from a validated config file.
func FromFile(ctx context.Context, f *config.Agent, logger *slog.Logger) (Config, error) {
	src, err := f.Identity.OpenIdentity(ctx, logger)
	if err != nil {
		return Config{}, err
	}
	allowed, err := certs.ParseAllow(f.AllowedCoordinators...)
	if err != nil {
		return Config{}, fmt.Errorf("allowed_coordinators: %w", err)
	}
	tables := make([]enginebridge.TableSource, 0, len(f.Tables))
	for _, t := range f.Tables {
		tables = append(tables, enginebridge.TableSource{Name: t.Name, Format: t.Format, Path: t.Path, Table: t.Table})
	}
	bundle := f.Policy.Bundle
	psrc, ppoll, err := policySource(f.Policy, logger)
	if err != nil {
		return Config{}, err
	}
	aopts, err := config.AuditOptions(f.Audit)
	if err != nil {
		return Config{}, err
	}
	verifier, requireCred, err := analystVerifier(f, logger)
	if err != nil {
		return Config{}, err
	}
	return Config{
		AnalystVerifier:            verifier,
		RequireCredential:          requireCred,
		AuditOptions:               aopts,
		Catalog:                    catalogOf(f.Tables),
		Tables:                     declaredTables(f.Tables),
		Site:                       f.Site,
		PolicySource:               psrc,
		PolicyPoll:                 ppoll,
		Listen:                     f.Listen,
		Identity:                   src,
		AllowedCoordinators:        allowed.IDs,
		AllowedCoordinatorPrefixes: allowed.Prefixes,
		OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
			return openEngines(ctx, f, tables, logger)
		},
		LoadPolicy: func(ctx context.Context) (*policy.Policy, error) {
			if bundle == config.BuiltinDefaultBundle {
				return policy.LoadDefault(ctx, logger)
			}
			return policy.Load(ctx, bundle, logger)
		},
		AuditPath:     f.Audit.Path,
		LedgerPath:    ledgerPath(f),
		GuardPath:     guardPath(f),
		MaxQueries:    f.Limits.MaxQueries,
		QueryWindow:   time.Duration(f.Limits.QueryWindow),
		QueryTimeout:  time.Duration(f.Limits.QueryTimeout),
		MaxConcurrent: f.Limits.MaxConcurrent,
		MetricsListen: f.MetricsListen,
		QueueTimeout:  time.Duration(f.Limits.QueueTimeout),
		MaxQueue:      f.Limits.MaxQueue,
		Logger:        logger,
	}, nil
}

// ledgerPath is where the site keeps its privacy-budget ledger.
func ledgerPath(f *config.Agent) string {
	return filepath.Join(stateDir(f), "site-"+f.Site+".ledger")
}

// guardPath is where the site keeps its replay guard.
func guardPath(f *config.Agent) string {
	return filepath.Join(stateDir(f), "site-"+f.Site+".guard")
}

func stateDir(f *config.Agent) string {
	if f.StateDir == "" {
		return filepath.Dir(f.Audit.Path)
	}
	return f.StateDir
}
