package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"time"

	"google.golang.org/grpc/health"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/admission"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/internal/metrics"
	"github.com/fedmesh/fedmesh/internal/task"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/privacy/dp"
	"github.com/fedmesh/fedmesh/privacy/guard"
	"github.com/fedmesh/fedmesh/privacy/ledger"
)

// Agent is one site agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Agent
}

// New checks cfg and returns an agent; nothing is opened until Run.
func New(cfg Config) (*Agent, error) {
	var errs []error
	if cfg.Site == "" {
		errs = append(errs, errors.New("site must be set"))
	}
	if cfg.Identity == nil {
		errs = append(errs, errors.New("identity must be set"))
	}
	if len(cfg.AllowedCoordinators) == 0 && len(cfg.AllowedCoordinatorPrefixes) == 0 {
		errs = append(errs, errors.New("allowed coordinators must be set"))
	}
	if cfg.OpenEngine == nil || (cfg.LoadPolicy == nil && cfg.PolicySource == nil) {
		errs = append(errs, errors.New("engine and policy must be set"))
	}
	if cfg.AuditPath == "" {
		errs = append(errs, errors.New("audit path must be set"))
	}
	if cfg.Listener == nil && cfg.Listen == "" {
		errs = append(errs, errors.New("listen address must be set"))
	}
	if len(logicalTables(cfg.Tables, cfg.Catalog)) == 0 {
		errs = append(errs, errors.New("tables must be set: a site serves only the tables it declares"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("site agent config: %w", err)
	}
	if cfg.MaxConnectionAge == 0 {
		cfg.MaxConnectionAge = DefaultMaxConnectionAge
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.GuardPath == "" {
		cfg.GuardPath = filepath.Join(filepath.Dir(cfg.AuditPath), "site-"+cfg.Site+".guard")
	}
	m := metrics.NewAgent()
	if cfg.PolicySource != nil {
		cfg.PolicySource = observedSource{Source: cfg.PolicySource, m: m}
	}
	m.SetIdentity(cfg.Identity)
	return &Agent{cfg: cfg, log: cfg.Logger.With(logkey.Component, "site-agent", logkey.Site, cfg.Site), metrics: m}, nil
}

// openGuard opens the site's exact-mode guard store. Without a site rate
// limit it still counts each analyst's queries (for the policy's
// rate_limit), durably, and never refuses.
func openGuard(cfg Config) (*guard.Store, error) {
	opts := guard.Options{Rate: guard.RateOptions{Limit: cfg.MaxQueries, Window: cfg.QueryWindow}}
	if opts.Rate.Limit == 0 {
		opts.Rate.Limit = math.MaxInt64
	}
	gs, err := guard.Open(cfg.GuardPath, opts)
	if err != nil {
		return nil, fmt.Errorf("open guard store: %w", err)
	}
	return gs, nil
}

// Run opens the engine, policy and audit log, then serves sub-plans over
// mTLS Arrow Flight until ctx is cancelled or one of its tasks (the Flight
// server, identity upkeep, the policy watcher) fails: it returns that
// task's error under the task's name, after stopping the others.
func (a *Agent) Run(ctx context.Context) error {
	eng, err := a.cfg.OpenEngine(ctx)
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	defer eng.Close()
	dialect, err := render.DialectByName(eng.Dialect())
	if err != nil {
		return fmt.Errorf("engine dialect: %w", err)
	}
	pol, watchPolicy, err := a.openPolicy(ctx)
	if err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	aopts := a.cfg.AuditOptions
	aopts.Logger, aopts.Component, aopts.Site = a.cfg.Logger, audit.ComponentSiteAgent, a.cfg.Site
	aopts.Observe = a.metrics
	alog, err := audit.Open(a.cfg.AuditPath, aopts)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer func() {
		if err := alog.Close(); err != nil {
			a.log.Error("close audit log", logkey.Err, err)
		}
	}()

	lis := a.cfg.Listener
	if lis == nil {
		lis, err = net.Listen("tcp", a.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	slots, err := admission.New(admission.Config{Slots: a.cfg.MaxConcurrent, MaxQueue: a.cfg.MaxQueue, Timeout: a.cfg.QueueTimeout})
	if err != nil {
		return err
	}
	h := &handler{
		site:    a.cfg.Site,
		engine:  observeEngine(eng, a.metrics),
		dialect: dialect,
		policy:  timedEvaluator{evaluator: pol, m: a.metrics},
		audit:   alog,
		timeout: a.cfg.QueryTimeout,
		slots:   slots,
		log:     a.log,
		catalog: a.cfg.Catalog,

		requireCredential: a.cfg.RequireCredential,
		noise:             dp.Secure{},
	}
	if a.cfg.AnalystVerifier != nil {
		h.verifier = a.cfg.AnalystVerifier
	}
	if a.cfg.LedgerPath != "" {
		led, err := ledger.Open(a.cfg.LedgerPath, ledger.Options{})
		if err != nil {
			return fmt.Errorf("open privacy-budget ledger: %w", err)
		}
		defer func() {
			if err := led.Close(); err != nil {
				a.log.Error("close privacy-budget ledger", "err", err)
			}
		}()
		h.ledger = led
	}
	// One guard store, shared: the replay guard of the intake checks, and
	// the difference-check window and durable rate limit of the policy.
	g, err := openGuard(a.cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := g.Close(); err != nil {
			a.log.Error("close guard store", logkey.Err, err)
		}
	}()
	h.intake = intake{tables: logicalTables(a.cfg.Tables, a.cfg.Catalog), guard: g}
	h.guard = g
	creds, err := a.serverCredentials(ctx, alog)
	if err != nil {
		return err
	}
	a.metrics.SetSlots(a.cfg.MaxConcurrent, func() int { running, _ := h.slots.Stats(); return running })
	a.metrics.SetBundle(func() (string, bool) { return pol.Revision(), pol.Current() != nil })
	srv := flight.NewServer(observedHandler{m: a.metrics,
		catalogHandler: catalogHandler{handler: h, tables: logicalTables(a.cfg.Tables, a.cfg.Catalog), described: &describeCache{}}}, a.log)
	srv.MaxConnectionAge = a.cfg.MaxConnectionAge
	hs := health.NewServer()
	srv.Health = hs
	monitor := newHealthMonitor(hs, pol, eng, a.cfg.HealthInterval, a.log)

	// The server goes last: it stops first, draining its streams while
	// the identity and the policy still work under them. The engine and
	// the audit log close (deferred above) once every task has returned.
	tasks := []task.Task{{Name: "identity", Run: func(ctx context.Context) error {
		return certs.Keep(ctx, a.cfg.Identity)
	}}}
	if watchPolicy != nil {
		tasks = append(tasks, task.Task{Name: "policy watcher", Run: watchPolicy})
	}
	tasks = append(tasks, task.Task{Name: "flight", Run: func(ctx context.Context) error {
		a.log.Info("serving", logkey.Addr, lis.Addr().String(), logkey.SPIFFEID, a.cfg.Identity.ID().String())
		if a.cfg.Ready != nil {
			a.cfg.Ready(lis.Addr())
		}
		return srv.Serve(ctx, lis, creds)
	}})
	if mlis, err := a.metricsListener(); err != nil {
		return err
	} else if mlis != nil {
		tasks = append(tasks, task.Task{Name: "metrics server", Run: func(ctx context.Context) error {
			a.log.Info("serving metrics and health", logkey.Addr, mlis.Addr().String())
			return metrics.Serve(ctx, mlis, opsHandler(a.metrics, hs), metricsGrace)
		}})
	}
	// The health monitor stops first of all, reporting NOT_SERVING while
	// the server drains.
	tasks = append(tasks, task.Task{Name: "health", Run: monitor.run})
	return task.Run(ctx, tasks...)
}

// metricsGrace bounds the ops server's shutdown: scrapes are short.
const metricsGrace = 2 * time.Second

// metricsListener is the ops server's listener, nil when none is set.
func (a *Agent) metricsListener() (net.Listener, error) {
	if a.cfg.MetricsListener != nil || a.cfg.MetricsListen == "" {
		return a.cfg.MetricsListener, nil
	}
	lis, err := net.Listen("tcp", a.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	return lis, nil
}
