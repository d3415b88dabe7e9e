package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// Coordinator is the coordinator's metrics.
type Coordinator struct {
	*base
	queries   *prometheus.CounterVec
	queryTime prometheus.Histogram
	sites     *prometheus.CounterVec
	siteTime  *prometheus.HistogramVec
	catalogs  atomic.Pointer[func() map[string]bool]
}

var catalogKnownDesc = prometheus.NewDesc("fedmesh_coordinator_site_catalog_known",
	"1 when the site's catalog has been fetched, 0 while it is missing.", []string{"site"}, nil)

// NewCoordinator returns the coordinator's metrics on a registry of their
// own.
func NewCoordinator() *Coordinator {
	m := &Coordinator{base: newBase()}
	m.queries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_coordinator_queries_total",
		Help: "Analysts' queries (POST /v1/query), by outcome: ok, bad_request, unauthenticated, denied, too_many_requests, site_failed, timeout, error."}, []string{"outcome"})
	m.queryTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedmesh_coordinator_query_duration_seconds",
		Help: "Time to answer a query (POST /v1/query), whatever its outcome.", Buckets: latencyBuckets})
	m.sites = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_coordinator_site_requests_total",
		Help: "Sub-plans sent to a site, by site and outcome: ok, denied, invalid, timeout, canceled (another site failed first), unavailable, unauthenticated, error."}, []string{"site", "outcome"})
	m.siteTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fedmesh_coordinator_site_request_duration_seconds",
		Help: "Time for a site to answer a sub-plan, by site.", Buckets: latencyBuckets}, []string{"site"})
	m.reg.MustRegister(m.queries, m.queryTime, m.sites, m.siteTime, catalogCollector{m})
	return m
}

// ObserveSite records one site's part of a fan-out (flight.Client.Observe).
func (m *Coordinator) ObserveSite(site string, code codes.Code, d time.Duration) {
	m.sites.WithLabelValues(site, Outcome(code)).Inc()
	m.siteTime.WithLabelValues(site).Observe(d.Seconds())
}

// SetCatalogs makes fedmesh_coordinator_site_catalog_known follow known,
// which maps every configured site to whether its catalog is known.
func (m *Coordinator) SetCatalogs(known func() map[string]bool) { m.catalogs.Store(&known) }

// Queries wraps the query endpoint, counting its answers by HTTP status.
func (m *Coordinator) Queries(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.queries.WithLabelValues(httpOutcome(sw.status)).Inc()
		m.queryTime.Observe(time.Since(start).Seconds())
	})
}

func httpOutcome(status int) string {
	switch {
	case status < 300:
		return "ok"
	case status == http.StatusUnauthorized:
		return "unauthenticated"
	case status == http.StatusForbidden:
		return "denied"
	case status == http.StatusTooManyRequests:
		return "too_many_requests"
	case status == http.StatusBadGateway:
		return "site_failed"
	case status == http.StatusGatewayTimeout:
		return "timeout"
	case status < 500:
		return "bad_request"
	}
	return "error"
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type catalogCollector struct{ m *Coordinator }

func (c catalogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- catalogKnownDesc }

func (c catalogCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.catalogs.Load()
	if f == nil {
		return
	}
	for site, known := range (*f)() {
		v := 0.0
		if known {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(catalogKnownDesc, prometheus.GaugeValue, v, site)
	}
}
