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

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/internal/metrics"
	"github.com/fedmesh/fedmesh/internal/task"
	"github.com/fedmesh/fedmesh/policy"
)

// shutdownGrace bounds how long in-flight HTTP requests may finish after
// the coordinator is asked to stop (or a task fails).
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
	metrics  *metrics.Coordinator
	// quotas enforces cfg.Quotas per analyst.
	quotas *quotaKeeper
	// async holds the queries submitted with POST /v1/queries.
	async *asyncJobs
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
	c := &Coordinator{async: newAsyncJobs(time.Now), cfg: cfg, log: cfg.Logger.With(logkey.Component, "coordinator"), catalogs: newCatalogs(cfg.Sites),
		metrics: metrics.NewCoordinator(), quotas: newQuotaKeeper(cfg.Quotas, nil)}
	c.metrics.SetIdentity(cfg.Identity)
	c.metrics.SetCatalogs(c.catalogsKnown)
	return c, nil
}

// Run opens the audit log and the site connections, then serves the HTTP
// API until ctx is cancelled or one of its tasks (the HTTP server,
// identity upkeep, the coordinator policy's watcher, catalog refresh)
// fails: it returns that task's error under the task's name, after
// stopping the others.
func (c *Coordinator) Run(ctx context.Context) error {
	aopts := c.cfg.AuditOptions
	aopts.Logger, aopts.Component = c.cfg.Logger, audit.ComponentCoordinator
	if c.metrics != nil {
		aopts.Observe = c.metrics
	}
	alog, err := audit.Open(c.cfg.AuditPath, aopts)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer func() {
		if err := alog.Close(); err != nil {
			c.log.Error("close audit log", logkey.Err, err)
		}
	}()
	c.audit = alog
	watchPolicy, err := c.openResultPolicy(ctx)
	if err != nil {
		return err
	}

	targets := make([]flight.Target, 0, len(c.cfg.Sites))
	for _, s := range c.cfg.Sites {
		targets = append(targets, flight.Target{Site: s.Name, Addr: s.Addr, TLS: certs.ClientTLS(c.cfg.Identity, s.ID)})
	}
	client, err := flight.NewClient(targets, c.cfg.Logger)
	if err != nil {
		return fmt.Errorf("site connections: %w", err)
	}
	defer client.Close()
	if c.metrics != nil {
		client.Observe = c.metrics.ObserveSite
	}
	c.client = client

	lis := c.cfg.Listener
	if lis == nil {
		lis, err = net.Listen("tcp", c.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	lis = c.apiListener(lis)

	// The HTTP server goes last: it stops first, draining its requests
	// while the identity (site connections handshake with it) still works.
	// The site connections and the audit log close (deferred above) once
	// every task has returned.
	tasks := []task.Task{{Name: "identity", Run: func(ctx context.Context) error {
		// Site connections ask the source on every handshake, so
		// reconnects (the agents' maximum connection age) pick up a
		// rotated SVID and bundle.
		return certs.Keep(ctx, c.cfg.Identity)
	}}}
	if watchPolicy != nil {
		tasks = append(tasks, task.Task{Name: "coordinator policy watcher", Run: watchPolicy})
	}
	tasks = append(tasks,
		task.Task{Name: "catalog refresh", Run: func(ctx context.Context) error {
			c.watchCatalogs(ctx)
			return nil
		}},
		task.Task{Name: "http server", Run: func(ctx context.Context) error {
			return c.serveHTTP(ctx, lis)
		}})
	return task.Run(ctx, tasks...)
}

// serveHTTP serves the API on lis until ctx is done, then stops accepting
// and lets requests in flight finish for up to shutdownGrace; requests
// still running then are cancelled and their connections closed.
func (c *Coordinator) serveHTTP(ctx context.Context, lis net.Listener) error {
	// Requests keep their context through the drain: it ends only when
	// the grace period does.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler:           c.observeQueries(c.routes()),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	c.log.Info("serving HTTP API", logkey.Addr, lis.Addr().String(), logkey.SPIFFEID, c.cfg.Identity.ID().String())
	if c.cfg.Ready != nil {
		c.cfg.Ready(lis.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return err // never http.ErrServerClosed: only Shutdown and Close cause that
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		c.log.Warn("http server: graceful shutdown timed out, cancelling requests", logkey.Grace, shutdownGrace, logkey.Err, err)
		cancelRequests()
		_ = srv.Close()
	}
	<-served
	c.log.Info("http server stopped")
	return nil
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
