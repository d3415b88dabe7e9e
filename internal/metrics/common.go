package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/certs"
)

// Path is where both daemons serve their metrics.
const Path = "/metrics"

// latencyBuckets span a fast fsync (100 µs) to a slow engine query (~100 s).
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 4, 11)

// base holds what both daemons export: audit log timings and the
// identity's remaining lifetime, on a registry of their own.
type base struct {
	reg         *prometheus.Registry
	auditAppend prometheus.Histogram
	auditErrors prometheus.Counter
	auditFsync  prometheus.Histogram
	identity    atomic.Pointer[certs.Source]
}

func newBase() *base {
	b := &base{reg: prometheus.NewRegistry()}
	b.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	b.auditAppend = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedmesh_audit_append_seconds",
		Help: "Time from an audit append to its record being durable (or failing).", Buckets: latencyBuckets})
	b.auditErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "fedmesh_audit_append_errors_total",
		Help: "Audit appends that failed (nothing was exported for them)."})
	b.auditFsync = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedmesh_audit_fsync_seconds",
		Help: "Duration of each fsync of the audit log (one per batch of records).", Buckets: latencyBuckets})
	b.reg.MustRegister(b.auditAppend, b.auditErrors, b.auditFsync,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fedmesh_identity_expiry_seconds",
			Help: "Seconds until the current X.509-SVID expires (negative: expired; absent before the identity is set)."},
			b.identityExpiry))
	return b
}

// Registry is the daemon's registry, for tests and extra collectors.
func (b *base) Registry() *prometheus.Registry { return b.reg }

// Handler serves the registry in the Prometheus exposition format.
func (b *base) Handler() http.Handler {
	return promhttp.HandlerFor(b.reg, promhttp.HandlerOpts{Registry: b.reg})
}

// ObserveAppend implements audit.Observer.
func (b *base) ObserveAppend(d time.Duration, err error) {
	b.auditAppend.Observe(d.Seconds())
	if err != nil {
		b.auditErrors.Inc()
	}
}

// ObserveSync implements audit.Observer.
func (b *base) ObserveSync(d time.Duration) { b.auditFsync.Observe(d.Seconds()) }

// SetIdentity makes fedmesh_identity_expiry_seconds follow src's SVID.
func (b *base) SetIdentity(src certs.Source) { b.identity.Store(&src) }

func (b *base) identityExpiry() float64 {
	p := b.identity.Load()
	if p == nil {
		return 0
	}
	svid, err := (*p).GetX509SVID()
	if err != nil || len(svid.Certificates) == 0 {
		return 0
	}
	return time.Until(svid.Certificates[0].NotAfter).Seconds()
}

// Outcome names a gRPC status as a metric label value.
func Outcome(c codes.Code) string {
	switch c {
	case codes.OK:
		return "ok"
	case codes.PermissionDenied:
		return "denied"
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return "invalid"
	case codes.DeadlineExceeded:
		return "timeout"
	case codes.Canceled:
		return "canceled"
	case codes.Unavailable:
		return "unavailable"
	case codes.Unauthenticated:
		return "unauthenticated"
	}
	return "error"
}

// Serve serves h on lis until ctx ends, then shuts down within grace.
// HTTP/2 without TLS (h2c) is accepted too, so gRPC clients (a kubelet's
// gRPC probe) can reach a gRPC handler mounted in h.
func Serve(ctx context.Context, lis net.Listener, h http.Handler, grace time.Duration) error {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, Protocols: &protos}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
