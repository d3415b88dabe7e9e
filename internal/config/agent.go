package config

import (
	"fmt"
	"regexp"
	"time"
)

// Agent is a site agent's config file.
type Agent struct {
	Site                string   `yaml:"site"`
	Listen              string   `yaml:"listen"`
	Identity            Identity `yaml:"identity"`
	AllowedCoordinators []string `yaml:"allowed_coordinators"` // SPIFFE IDs or spiffe://<td>/<path>/* prefixes; list two coordinators during a migration
	Engine              Engine   `yaml:"engine,omitempty"`
	Engines             []Engine `yaml:"engines,omitempty"` // several engines, each with a profile; see Routing
	Routing             Routing  `yaml:"routing,omitempty"`
	Vault               *Vault   `yaml:"vault,omitempty"` // for vault: references in engine dsn/password
	Tables              []Table  `yaml:"tables"`
	Policy              Policy   `yaml:"policy"`
	Audit               Audit    `yaml:"audit"`
	Limits              Limits   `yaml:"limits,omitempty"`
	Log                 Log      `yaml:"log,omitempty"`
	// AnalystCredentials is how the site verifies the analyst itself
	// (ARCHITECTURE.md, invariant 7): the issuer whose signed credential
	// the coordinator forwards with each sub-plan.
	AnalystCredentials *AnalystCredentials `yaml:"analyst_credentials,omitempty"`
	// StateDir holds the site's durable privacy state: the budget ledger of
	// differentially private tables (and the exact-mode guards). Default:
	// the audit log's directory. It must survive restarts, like the audit log.
	StateDir string `yaml:"state_dir,omitempty"`
	// MetricsListen is the host:port of the ops HTTP server (Prometheus
	// /metrics and the gRPC health service for probes); unset: none. It
	// must differ from listen: the Flight port speaks only mTLS.
	MetricsListen string `yaml:"metrics_listen,omitempty"`
}

// Engine selects and tunes one of the site's engines.
type Engine struct {
	Type        string `yaml:"type,omitempty"`    // duckdb (default), postgres, mysql (MariaDB too), flink, spark
	Profile     string `yaml:"profile,omitempty"` // name under engines: (small, large, ...)
	Threads     int    `yaml:"threads,omitempty"` // duckdb
	MemoryLimit string `yaml:"memory_limit,omitempty"`
	// DSN and Password (postgres, mysql) may be "vault:path#field" references.
	DSN      string `yaml:"dsn,omitempty"`
	Password string `yaml:"password,omitempty"`
	MaxConns int    `yaml:"max_conns,omitempty"`
}

// Table exposes one file as a logical table.
type Table struct {
	Name   string `yaml:"name"`
	Format string `yaml:"format"` // parquet, csv, duckdb
	Path   string `yaml:"path"`
	Table  string `yaml:"table,omitempty"` // for duckdb files
	// Logical, if set, is the federation's name for this table; Name is
	// then the site's physical name. Columns maps logical → physical
	// column names for the columns whose names differ here.
	Logical string            `yaml:"logical,omitempty"`
	Columns map[string]string `yaml:"columns,omitempty"`
}

// Limits bounds the work one query may cause at the site.
type Limits struct {
	QueryTimeout  Duration `yaml:"query_timeout,omitempty"`  // default 60s
	MaxConcurrent int      `yaml:"max_concurrent,omitempty"` // default 4
	// QueueTimeout is the longest a sub-plan waits for an engine slot
	// before the site answers busy (default 5s); MaxQueue bounds the
	// sub-plans waiting (default 64). The queue is fair across analysts
	// (internal/admission).
	QueueTimeout Duration `yaml:"queue_timeout,omitempty"`
	MaxQueue     int      `yaml:"max_queue,omitempty"`
	// MaxQueries is the most sub-plans one analyst may send this site per
	// QueryWindow (default 1h), counted in the site's durable guard store
	// so a restart does not reset it; 0: no site limit (the policy's
	// rate_limit still sees the durable count).
	MaxQueries  int64    `yaml:"max_queries,omitempty"`
	QueryWindow Duration `yaml:"query_window,omitempty"`
}

var siteName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// LoadAgent reads and validates a site agent config file.
func LoadAgent(path string) (*Agent, error) {
	var c Agent
	if err := decodeStrict(path, &c); err != nil {
		return nil, err
	}
	if err := c.validate(path); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Agent) validate(file string) error {
	var p problems
	if !siteName.MatchString(c.Site) {
		p.add("site", "%q is not a site name (lowercase letters, digits, - and _)", c.Site)
	}
	checkAddr("listen", c.Listen, &p)
	if c.MetricsListen != "" {
		checkAddr("metrics_listen", c.MetricsListen, &p)
		if c.MetricsListen == c.Listen {
			p.add("metrics_listen", "must differ from listen (the Flight port speaks only mTLS)")
		}
	}
	c.Identity.validate("identity", file, &p)
	if len(c.AllowedCoordinators) == 0 {
		p.add("allowed_coordinators", "%v (list the SPIFFE IDs allowed to send queries)", errEmpty)
	}
	for i, id := range c.AllowedCoordinators {
		checkAllowEntry(fmt.Sprintf("allowed_coordinators[%d]", i), id, &p)
	}
	c.validateEngines(file, &p)
	if len(c.Tables) == 0 && c.usesDuckDB() {
		p.add("tables", "%v (a site exposes at least one table)", errEmpty)
	}
	seen := map[string]bool{}
	for i := range c.Tables {
		t := &c.Tables[i]
		path := fmt.Sprintf("tables[%d]", i)
		switch {
		case t.Name == "":
			p.add(path+".name", "%v", errEmpty)
		case seen[t.Name]:
			p.add(path+".name", "table %q is declared twice", t.Name)
		}
		dupName := seen[t.Name]
		seen[t.Name] = true
		logical := t.Logical
		if logical == "" {
			logical = t.Name
		}
		if seen["logical "+logical] && !dupName {
			p.add(path+".logical", "logical table %q is declared twice", logical)
		}
		seen["logical "+logical] = true
		switch t.Format {
		case "parquet", "csv", "duckdb":
		default:
			p.add(path+".format", "unknown format %q (parquet, csv, duckdb)", t.Format)
		}
		if t.Path == "" {
			p.add(path+".path", "%v", errEmpty)
		}
		t.Path = resolve(file, t.Path)
	}
	c.Policy.validate("policy", file, &p)
	c.Audit.validate("audit", file, &p)
	if c.Limits.QueryTimeout == 0 {
		c.Limits.QueryTimeout = Duration(60 * time.Second)
	} else if c.Limits.QueryTimeout < 0 {
		p.add("limits.query_timeout", "must be positive")
	}
	if c.Limits.MaxConcurrent == 0 {
		c.Limits.MaxConcurrent = 4
	} else if c.Limits.MaxConcurrent < 0 {
		p.add("limits.max_concurrent", "must be positive")
	}
	if c.Limits.QueueTimeout < 0 {
		p.add("limits.queue_timeout", "must be positive")
	}
	if c.Limits.MaxQueue < 0 {
		p.add("limits.max_queue", "must not be negative")
	}
	if c.Limits.MaxQueries < 0 {
		p.add("limits.max_queries", "must not be negative")
	}
	if c.Limits.QueryWindow < 0 {
		p.add("limits.query_window", "must be positive")
	} else if c.Limits.QueryWindow > 0 && time.Duration(c.Limits.QueryWindow) < time.Minute {
		p.add("limits.query_window", "must be at least 1m (queries are counted per minute)")
	}
	c.Log.validate("log", &p)
	if c.AnalystCredentials != nil {
		c.AnalystCredentials.validate("analyst_credentials", file, true, &p)
	}
	return p.err(file)
}
