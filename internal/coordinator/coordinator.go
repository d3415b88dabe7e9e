package coordinator

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/policy"
)

// shutdownGrace bounds how long in-flight HTTP requests may finish after
// the coordinator is asked to stop.
const shutdownGrace = 10 * time.Second

// Coordinator answers analysts' federated queries.
type Coordinator struct {
	cfg    Config
	log    *slog.Logger
	audit  *audit.Log
	client *flight.Client
	// resultPolicy is the optional coordinator policy (nil: none).
	resultPolicy *policy.Holder
	// catalogs caches the catalog each site reported.
	catalogs *catalogs

	reviewSessions sessions // browser sessions of the /audit/ page
}

// New checks cfg; nothing is opened until Run.
func New(cfg Config) (*Coordinator, error) {
	var errs []error
	if cfg.Identity == nil {
		errs = append(errs, errors.New("identity must be set"))
	}
	if len(cfg.Sites) == 0 {
		errs = append(errs, errors.New("at least one site must be configured"))
	}
	if cfg.AuditPath == "" {
		errs = append(errs, errors.New("audit path must be set"))
	}
	if cfg.Listener == nil && cfg.Listen == "" {
		errs = append(errs, errors.New("listen address must be set"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("coordinator config: %w", err)
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CatalogRefresh == 0 {
		cfg.CatalogRefresh = DefaultCatalogRefresh
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger.With("component", "coordinator"), catalogs: newCatalogs(cfg.Sites)}, nil
}

// Run opens the audit log and the site connections, then serves the HTTP
// API until ctx is cancelled.
func (c *Coordinator) Run(ctx context.Context) error {
	aopts := c.cfg.AuditOptions
	aopts.Logger, aopts.Component = c.cfg.Logger, audit.ComponentCoordinator
	alog, err := audit.Open(c.cfg.AuditPath, aopts)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer func() {
		if err := alog.Close(); err != nil {
			c.log.Error("close audit log", "err", err)
		}
	}()
	c.audit = alog
	if err := c.openResultPolicy(ctx); err != nil {
		return err
	}

	c.startIdentity(ctx)
	targets := make([]flight.Target, 0, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		targets = append(targets, flight.Target{Site: s.Name, Addr: s.Addr, TLS: certs.ClientTLS(c.cfg.Identity, s.ID)})
	}
	client, err := flight.NewClient(targets, c.cfg.Logger)
	if err != nil {
		return fmt.Errorf("site connections: %w", err)
	}
	defer client.Close()
	c.client = client

	lis := c.cfg.Listener
	if lis == nil {
		lis, err = net.Listen("tcp", c.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           c.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		c.watchCatalogs(gctx)
		return nil
	})
	g.Go(func() error {
		c.log.Info("serving HTTP API", "addr", lis.Addr().String(), "spiffe_id", c.cfg.Identity.ID().String())
		if c.cfg.Ready != nil {
			c.cfg.Ready(lis.Addr())
		}
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), shutdownGrace)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// authenticate maps a bearer token to an analyst: a signed credential is
// verified (see verifyCredential), anything else is a static token. Every
// configured token is compared in constant time so timing does not reveal
// which one matched.
func (c *Coordinator) authenticate(token string) (Analyst, bool) {
	if looksLikeJWT(token) {
		an, err := c.verifyCredential(context.Background(), token)
		return an, err == nil
	}
	h := TokenHash(token)
	var found Analyst
	ok := false
	for _, a := range c.cfg.Analysts {
		if subtle.ConstantTimeCompare(h[:], a.TokenSHA256[:]) == 1 {
			found, ok = a, true
		}
	}
	return found, ok
}
