package coordinator

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/policy"
)

// Config is the coordinator's runtime configuration.
type Config struct {
	Listen   string       // HTTP API host:port, used when Listener is nil
	Listener net.Listener // optional
	// HTTPTLS, when set, serves the API over HTTPS (nil: plain HTTP).
	HTTPTLS      *tls.Config
	Identity     certs.Source
	Sites        []Site
	Analysts     []Analyst
	AuditPath    string
	QueryTimeout time.Duration
	Logger       *slog.Logger
	// Ready, if set, is called with the HTTP address once the API serves.
	Ready func(addr net.Addr)

	// AuditOptions carries signing and rotation; Run fills Logger and
	// Component.
	AuditOptions audit.Options
	// ReviewLogs are the other logs /audit/ shows (the coordinator's own
	// is always shown); ReviewKeys check their signed heads.
	ReviewLogs []string
	ReviewKeys audit.Keyring

	// ResultPolicy is the optional coordinator policy's bundle source,
	// evaluated on the merged result; reloaded every ResultPolicyPoll (0:
	// loaded once).
	ResultPolicy     policy.Source
	ResultPolicyPoll time.Duration

	// AnalystVerifier, when set, accepts analysts' signed credentials
	// (JWTs) as bearer tokens besides the static Analysts.
	AnalystVerifier *credential.Verifier

	// CatalogRefresh is how often every site is asked for its catalog
	// again (0: DefaultCatalogRefresh; negative: only at start and when a
	// query needs a site whose catalog is missing).
	CatalogRefresh time.Duration

	// Quotas bound each analyst's queries (zero: none).
	Quotas Quotas
	// PartialAnswers says who may ask for an answer from the sites that
	// succeeded when others fail (zero: nobody).
	PartialAnswers PartialAnswers
}

// Site is one site agent.
type Site struct {
	Name string
	Addr string
	ID   spiffeid.ID // the only identity the coordinator accepts at Addr
	// Dialect is the site engine's SQL dialect, for EXPLAIN ("" = duckdb).
	Dialect string
	// Tables, when set, lists the logical tables the site holds and
	// overrides the catalog the site reports; nil defers to the reported
	// catalog (see Coordinator.siteTables). A query over a table the site
	// does not hold does not contact it.
	Tables []string
}

// Analyst is an authenticated caller of the query API.
type Analyst struct {
	ID          string
	Roles       []string
	TokenSHA256 [32]byte
	// Credential is the analyst's verified signed credential (the raw JWT)
	// when they authenticated with one, to be forwarded to the sites, which
	// verify it themselves; empty for a static token. Expires is its expiry.
	Credential string
	Expires    time.Time
}

// TokenHash returns the SHA-256 of a bearer token, as kept in config files.
func TokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// FromFile builds the runtime Config from a validated config file.
func FromFile(f *config.Coordinator, logger *slog.Logger) (Config, error) {
	src, err := f.Identity.OpenIdentity(context.Background(), logger)
	if err != nil {
		return Config{}, err
	}
	aopts, err := config.AuditOptions(f.Audit)
	if err != nil {
		return Config{}, err
	}
	var keys audit.Keyring
	if len(f.Review.PublicKeys) > 0 {
		if keys, err = audit.LoadKeyring(f.Review.PublicKeys...); err != nil {
			return Config{}, fmt.Errorf("review.public_keys: %w", err)
		}
	}
	rsrc, rpoll, err := resultPolicySource(f.Policy, logger)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		AuditOptions:   aopts,
		ReviewLogs:     f.Review.Logs,
		ReviewKeys:     keys,
		Listen:         f.Listen,
		Identity:       src,
		AuditPath:      f.Audit.Path,
		QueryTimeout:   time.Duration(f.QueryTimeout),
		CatalogRefresh: time.Duration(f.CatalogRefresh),
		Logger:         logger,
		Quotas:         Quotas{MaxConcurrentPerAnalyst: f.Quotas.MaxConcurrentPerAnalyst, MaxQueriesPerMinute: f.Quotas.MaxQueriesPerMinute},
		PartialAnswers: PartialAnswers{Roles: f.PartialAnswers.Roles, Purposes: f.PartialAnswers.Purposes},
	}
	cfg.ResultPolicy, cfg.ResultPolicyPoll = rsrc, rpoll
	if cfg.HTTPTLS, err = httpTLS(f.TLS); err != nil {
		return Config{}, err
	}
	for i, s := range f.Sites {
		id, err := spiffeid.FromString(s.SPIFFEID)
		if err != nil {
			return Config{}, fmt.Errorf("sites[%d].spiffe_id: %w", i, err)
		}
		cfg.Sites = append(cfg.Sites, Site{Name: s.Name, Addr: s.Address, ID: id, Dialect: s.Dialect, Tables: s.Tables})
	}
	if f.AnalystCredentials != nil {
		if cfg.AnalystVerifier, err = f.AnalystCredentials.Verifier(logger); err != nil {
			return Config{}, err
		}
	}
	for i, a := range f.Analysts {
		b, err := hex.DecodeString(a.TokenSHA256)
		if err != nil || len(b) != sha256.Size {
			return Config{}, fmt.Errorf("analysts[%d].token_sha256: not a SHA-256", i)
		}
		an := Analyst{ID: a.ID, Roles: a.Roles}
		copy(an.TokenSHA256[:], b)
		cfg.Analysts = append(cfg.Analysts, an)
	}
	return cfg, nil
}
