package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/metrics"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// The wrappers below feed the agent's metrics without the pipeline
// knowing about them: the Flight handler (outcomes, rows, bytes,
// suppressed groups, DP charges), the policy evaluator (decision latency),
// the engine (query latency) and the bundle source (reload results).

// observedHandler is the site's Flight handler, counted. Embedding keeps
// the catalog and explain actions.
type observedHandler struct {
	catalogHandler
	m *metrics.Agent
}

func (o observedHandler) Serve(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*flight.Result, error) {
	start := time.Now()
	res, err := o.catalogHandler.Serve(ctx, peer, sp)
	if err != nil {
		o.m.ObserveSubPlan(metrics.Outcome(flight.HandlerCode(err)), time.Since(start))
		return nil, err
	}
	o.m.ObserveSubPlan(metrics.OutcomeExported, time.Since(start))
	var rows, bytes int64
	for _, b := range res.Batches {
		rows += b.NumRows()
		for _, col := range b.Columns() {
			bytes += dataBytes(col.Data())
		}
	}
	o.m.ObserveExport(rows, bytes, res.Meta.SuppressedGroups)
	if res.Meta.Privacy != "" {
		var r policy.DPReport
		if json.Unmarshal([]byte(res.Meta.Privacy), &r) == nil {
			o.m.ObserveDPCharge(r.Table, r.Rho)
		}
	}
	return res, nil
}

// dataBytes is the size of an array's buffers, children included.
func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

// timedEvaluator times each policy evaluation.
type timedEvaluator struct {
	evaluator
	m *metrics.Agent
}

func (t timedEvaluator) Evaluate(ctx context.Context, in policy.Input) (policy.Decision, error) {
	start := time.Now()
	d, err := t.evaluator.Evaluate(ctx, in)
	t.m.ObserveDecision(time.Since(start))
	return d, err
}

// observeEngine times e's queries, keeping its engine profiles' routing
// (enginebridge.Chooser) when it has some.
func observeEngine(e enginebridge.Engine, m *metrics.Agent) enginebridge.Engine {
	te := timedEngine{Engine: e, m: m}
	if ch, ok := e.(enginebridge.Chooser); ok {
		return timedChooser{timedEngine: te, ch: ch}
	}
	return te
}

type timedEngine struct {
	enginebridge.Engine
	m *metrics.Agent
}

var _ enginebridge.Engine = timedEngine{}

// Query times the engine until its result has been read to the end (or
// failed): the reader streams, so the query's cost is paid while reading.
func (t timedEngine) Query(ctx context.Context, sql string, args []any) (array.RecordReader, error) {
	start := time.Now()
	r, err := t.Engine.Query(ctx, sql, args)
	if err != nil {
		t.m.ObserveEngine(time.Since(start), err)
		return nil, err
	}
	return &timedReader{RecordReader: r, start: start, m: t.m}, nil
}

type timedReader struct {
	array.RecordReader
	start time.Time
	m     *metrics.Agent
	done  bool
}

func (r *timedReader) Next() bool {
	if r.RecordReader.Next() {
		return true
	}
	if !r.done {
		r.done = true
		r.m.ObserveEngine(time.Since(r.start), r.RecordReader.Err())
	}
	return false
}

type timedChooser struct {
	timedEngine
	ch enginebridge.Chooser
}

var _ enginebridge.Chooser = timedChooser{}

func (t timedChooser) Choose(ctx context.Context, table, tag string) (enginebridge.Choice, error) {
	c, err := t.ch.Choose(ctx, table, tag)
	if err == nil && c.Engine != nil {
		c.Engine = timedEngine{Engine: c.Engine, m: t.m}
	}
	return c, err
}

// observedSource records every poll of the policy bundle.
type observedSource struct {
	policy.Source
	m *metrics.Agent
}

func (o observedSource) Poll(ctx context.Context) (*policy.Policy, error) {
	p, err := o.Source.Poll(ctx)
	switch {
	case err != nil && errors.Is(err, ctx.Err()):
	case err != nil:
		o.m.ObserveReload(metrics.ReloadError, time.Now())
	case p == nil:
		o.m.ObserveReload(metrics.ReloadUnchanged, time.Now())
	default:
		o.m.ObserveReload(metrics.ReloadChanged, time.Now())
	}
	return p, err
}

// opsHandler is the agent's metrics port: /metrics, and the gRPC health
// service over HTTP/2 without TLS for an orchestrator's probe (the Flight
// port needs a coordinator's SVID).
func opsHandler(m *metrics.Agent, hs *health.Server) http.Handler {
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	mux := http.NewServeMux()
	mux.Handle("GET "+metrics.Path, m.Handler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && r.Header.Get("Content-Type") == "application/grpc" {
			gs.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
