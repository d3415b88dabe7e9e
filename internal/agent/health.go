package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/policy"
)

// FlightServiceName is the gRPC service whose health the agent reports
// besides the server's overall status (""), as the standard health
// service names it.
const FlightServiceName = "arrow.flight.protocol.FlightService"

// Health probing: how often, and how long the engine may take to answer.
const (
	DefaultHealthInterval = 10 * time.Second
	healthProbeTimeout    = 5 * time.Second
)

// errNoBundle: the site holds no verified policy bundle, so it exports
// nothing; it is not ready to serve.
var errNoBundle = errors.New("no verified policy bundle is loaded")

// healthMonitor keeps the agent's gRPC health status: SERVING only while a
// policy bundle is loaded and the engine answers a trivial query, so an
// orchestrator routes no coordinator to a site that could only refuse or
// fail. It probes at start and then every interval.
type healthMonitor struct {
	hs       *health.Server
	policy   *policy.Holder
	engine   enginebridge.Engine
	interval time.Duration
	log      *slog.Logger
	last     error // the previous probe's failure, to log changes only
	first    bool
}

func newHealthMonitor(hs *health.Server, pol *policy.Holder, eng enginebridge.Engine, interval time.Duration, log *slog.Logger) *healthMonitor {
	if interval <= 0 {
		interval = DefaultHealthInterval
	}
	setHealth(hs, healthpb.HealthCheckResponse_NOT_SERVING)
	return &healthMonitor{hs: hs, policy: pol, engine: eng, interval: interval, log: log, first: true}
}

// check returns why the agent cannot serve, nil when it can.
func (m *healthMonitor) check(ctx context.Context) error {
	if m.policy.Current() == nil {
		return errNoBundle
	}
	ctx, cancel := context.WithTimeout(ctx, healthProbeTimeout)
	defer cancel()
	rdr, err := m.engine.Query(ctx, "SELECT 1", nil)
	if err != nil {
		return fmt.Errorf("engine probe: %w", err)
	}
	defer rdr.Release()
	for rdr.Next() {
	}
	if err := rdr.Err(); err != nil {
		return fmt.Errorf("engine probe: %w", err)
	}
	return nil
}

// probe runs one check and sets the status from it.
func (m *healthMonitor) probe(ctx context.Context) {
	err := m.check(ctx)
	if ctx.Err() != nil {
		return // stopping: leave the status to run's shutdown
	}
	st := healthpb.HealthCheckResponse_SERVING
	if err != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	setHealth(m.hs, st)
	switch {
	case err != nil && (m.first || m.last == nil || m.last.Error() != err.Error()):
		m.log.Warn("not serving", logkey.Err, err)
	case err == nil && (m.first || m.last != nil):
		m.log.Info("health: serving")
	}
	m.last, m.first = err, false
}

// run probes until ctx ends, then reports NOT_SERVING for the drain.
func (m *healthMonitor) run(ctx context.Context) error {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.probe(ctx)
		select {
		case <-ctx.Done():
			m.hs.Shutdown()
			return nil
		case <-t.C:
		}
	}
}

func setHealth(hs *health.Server, st healthpb.HealthCheckResponse_ServingStatus) {
	hs.SetServingStatus("", st)
	hs.SetServingStatus(FlightServiceName, st)
}
