package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Agent is a site agent's metrics.
type Agent struct {
	*base
	subplans    *prometheus.CounterVec
	subplanTime prometheus.Histogram
	decision    prometheus.Histogram
	engine      *prometheus.HistogramVec
	rows        prometheus.Counter
	bytes       prometheus.Counter
	suppressed  prometheus.Counter
	dpCharges   *prometheus.CounterVec
	dpRho       *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	reloadOK    prometheus.Gauge
	reloadAt    prometheus.Gauge

	slotsInUse atomic.Pointer[func() int]
	slots      atomic.Int64
	revision   atomic.Pointer[func() (string, bool)]
}

// Sub-plan outcomes (fedmesh_agent_subplans_total's outcome label).
const (
	OutcomeExported = "exported"
)

// Policy reload results (fedmesh_agent_policy_reloads_total's result).
const (
	ReloadChanged   = "changed"
	ReloadUnchanged = "unchanged"
	ReloadError     = "error"
)

// NewAgent returns a site agent's metrics on a registry of their own.
func NewAgent() *Agent {
	m := &Agent{base: newBase()}
	m.subplans = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_agent_subplans_total",
		Help: "Sub-plans served, by outcome: exported, denied (policy), invalid (plan), timeout, canceled, error."}, []string{"outcome"})
	m.subplanTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedmesh_agent_subplan_duration_seconds",
		Help: "Time to serve a sub-plan, from its arrival to its result being ready to stream (or refused).", Buckets: latencyBuckets})
	m.decision = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedmesh_agent_policy_decision_seconds",
		Help: "Duration of one policy evaluation (OPA) of a sub-plan.", Buckets: latencyBuckets})
	m.engine = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fedmesh_agent_engine_query_seconds",
		Help: "Time from sending a query to the engine until its result was read, by result (ok, error).", Buckets: latencyBuckets}, []string{"result"})
	m.rows = prometheus.NewCounter(prometheus.CounterOpts{Name: "fedmesh_agent_exported_rows_total",
		Help: "Rows (groups) exported to the coordinator."})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "fedmesh_agent_exported_bytes_total",
		Help: "Arrow buffer bytes of the batches exported to the coordinator."})
	m.suppressed = prometheus.NewCounter(prometheus.CounterOpts{Name: "fedmesh_agent_suppressed_groups_total",
		Help: "Groups suppressed below the minimum group size, as reported to the coordinator (the policy may round or hide the count; the audit log keeps the exact one)."})
	m.dpCharges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_agent_dp_charges_total",
		Help: "Differentially private answers exported, each debited from an analyst's budget, by protected table."}, []string{"table"})
	m.dpRho = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_agent_dp_rho_charged_total",
		Help: "zCDP rho debited from analysts' budgets for exported answers, by protected table."}, []string{"table"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedmesh_agent_policy_reloads_total",
		Help: "Policy bundle polls, by result: changed (a new bundle loaded), unchanged, error (refused; the last good bundle stays)."}, []string{"result"})
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedmesh_agent_policy_last_reload_success",
		Help: "1 if the last policy bundle poll succeeded, 0 if it failed."})
	m.reloadAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedmesh_agent_policy_last_reload_timestamp_seconds",
		Help: "Unix time of the last policy bundle poll."})
	m.reg.MustRegister(m.subplans, m.subplanTime, m.decision, m.engine, m.rows, m.bytes, m.suppressed, m.dpCharges, m.dpRho,
		m.reloads, m.reloadOK, m.reloadAt,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fedmesh_agent_engine_slots_in_use",
			Help: "Sub-plans holding one of the site's engine slots (limits.max_concurrent) now."}, func() float64 {
			if f := m.slotsInUse.Load(); f != nil {
				return float64((*f)())
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fedmesh_agent_engine_slots",
			Help: "The site's engine slots (limits.max_concurrent)."}, func() float64 { return float64(m.slots.Load()) }),
		bundleCollector{m})
	return m
}

// ObserveSubPlan records one served sub-plan.
func (m *Agent) ObserveSubPlan(outcome string, d time.Duration) {
	m.subplans.WithLabelValues(outcome).Inc()
	m.subplanTime.Observe(d.Seconds())
}

// ObserveExport records what one exported result held.
func (m *Agent) ObserveExport(rows, bytes, suppressed int64) {
	m.rows.Add(float64(rows))
	m.bytes.Add(float64(bytes))
	m.suppressed.Add(float64(suppressed))
}

// ObserveDPCharge records a differentially private export's charge.
func (m *Agent) ObserveDPCharge(table string, rho float64) {
	m.dpCharges.WithLabelValues(table).Inc()
	m.dpRho.WithLabelValues(table).Add(rho)
}

// ObserveDecision records one policy evaluation.
func (m *Agent) ObserveDecision(d time.Duration) { m.decision.Observe(d.Seconds()) }

// ObserveEngine records one engine query.
func (m *Agent) ObserveEngine(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.engine.WithLabelValues(result).Observe(d.Seconds())
}

// ObserveReload records one poll of the policy bundle.
func (m *Agent) ObserveReload(result string, at time.Time) {
	m.reloads.WithLabelValues(result).Inc()
	ok := 1.0
	if result == ReloadError {
		ok = 0
	}
	m.reloadOK.Set(ok)
	m.reloadAt.Set(float64(at.UnixNano()) / 1e9)
}

// SetSlots makes the slot gauges follow the handler's semaphore.
func (m *Agent) SetSlots(capacity int, inUse func() int) {
	m.slots.Store(int64(capacity))
	m.slotsInUse.Store(&inUse)
}

// SetBundle makes fedmesh_agent_policy_bundle_info follow the current
// bundle: its revision, and whether one is loaded at all.
func (m *Agent) SetBundle(current func() (revision string, loaded bool)) { m.revision.Store(&current) }

// bundleCollector exports the loaded bundle's revision as an info metric
// (value 1, the revision a label) and whether one is loaded.
type bundleCollector struct{ m *Agent }

var (
	bundleInfoDesc = prometheus.NewDesc("fedmesh_agent_policy_bundle_info",
		"The loaded policy bundle (value 1, its revision as a label); absent while none is loaded.", []string{"revision"}, nil)
	bundleLoadedDesc = prometheus.NewDesc("fedmesh_agent_policy_bundle_loaded",
		"1 while a verified policy bundle is loaded; 0 means every export is refused.", nil, nil)
)

func (c bundleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- bundleInfoDesc
	ch <- bundleLoadedDesc
}

func (c bundleCollector) Collect(ch chan<- prometheus.Metric) {
	rev, loaded := "", false
	if f := c.m.revision.Load(); f != nil {
		rev, loaded = (*f)()
	}
	v := 0.0
	if loaded {
		v = 1
		ch <- prometheus.MustNewConstMetric(bundleInfoDesc, prometheus.GaugeValue, 1, rev)
	}
	ch <- prometheus.MustNewConstMetric(bundleLoadedDesc, prometheus.GaugeValue, v)
}
