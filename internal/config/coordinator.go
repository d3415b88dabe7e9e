package config

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Coordinator is the coordinator's config file.
type Coordinator struct {
	Listen string `yaml:"listen"` // HTTP API, host:port
	// TLS serves the HTTP API over HTTPS; without it, plain HTTP only on
	// a loopback listen address or with InsecureHTTP.
	TLS          *HTTPTLS  `yaml:"tls,omitempty"`
	InsecureHTTP bool      `yaml:"insecure_http,omitempty"`
	Identity     Identity  `yaml:"identity"`
	Sites        []Site    `yaml:"sites"`
	Analysts     []Analyst `yaml:"analysts"`
	Audit        Audit     `yaml:"audit"`
	QueryTimeout Duration  `yaml:"query_timeout,omitempty"` // default 60s
	// CatalogRefresh is how often the coordinator asks every site for its
	// catalog again (default 1m; a negative value: only at start and when
	// a query needs a site whose catalog is still missing).
	CatalogRefresh Duration `yaml:"catalog_refresh,omitempty"`
	Log            Log      `yaml:"log,omitempty"`
	// Review configures the auditors' review page /audit/, served to
	// analysts holding the "auditor" role.
	Review Review `yaml:"review,omitempty"`
	// Policy is the optional coordinator policy, evaluated on the merged
	// result (e.g. a cross-site minimum group size); same form as a site's.
	Policy *Policy `yaml:"policy,omitempty"`
	// AnalystCredentials, when set, also accepts analysts' signed
	// credentials (JWTs) as bearer tokens; analysts may then be empty.
	AnalystCredentials *AnalystCredentials `yaml:"analyst_credentials,omitempty"`
	// Quotas bound each analyst's queries at the coordinator.
	Quotas Quotas `yaml:"quotas,omitempty"`
	// PartialAnswers lists who may ask for a partial answer
	// (allow_partial); absent: nobody.
	PartialAnswers PartialAnswers `yaml:"partial_answers,omitempty"`
}

// Quotas bound each analyst's queries (0: no limit); over a quota the
// coordinator answers 429 with Retry-After.
type Quotas struct {
	MaxConcurrentPerAnalyst int `yaml:"max_concurrent_per_analyst,omitempty"`
	MaxQueriesPerMinute     int `yaml:"max_queries_per_minute,omitempty"`
}

// PartialAnswers allows "allow_partial" for analysts holding one of Roles,
// for one of Purposes (empty: any purpose).
type PartialAnswers struct {
	Roles    []string `yaml:"roles,omitempty"`
	Purposes []string `yaml:"purposes,omitempty"`
}

// Review lists the audit logs the review page may show besides the
// coordinator's own (site logs copied or mounted here, each a path whose
// rotated segments are found next to it) and the public keys that check
// their signed heads.
type Review struct {
	Logs       []string `yaml:"logs,omitempty"`
	PublicKeys []string `yaml:"public_keys,omitempty"`
}

// Site is one site agent the coordinator fans out to.
type Site struct {
	Name     string `yaml:"name"`
	Address  string `yaml:"address"`
	SPIFFEID string `yaml:"spiffe_id"`
	// Dialect names the site engine's SQL dialect (duckdb, postgres, mysql,
	// spark, flink), which EXPLAIN renders the site's SQL in; default duckdb.
	Dialect string `yaml:"dialect,omitempty"`
	// Tables, if present, lists the logical tables the site holds and
	// overrides the catalog the site reports on connect; absent (the
	// usual case) defers to the site's reported catalog, and a site that
	// could not be asked is assumed to hold every table. A query over a
	// table a site lacks does not contact it.
	Tables []string `yaml:"tables,omitempty"`
}

// Analyst maps a bearer token to an identity. Only the token's SHA-256 is
// kept in the file, so the config can be read without learning tokens.
type Analyst struct {
	ID          string   `yaml:"id"`
	Roles       []string `yaml:"roles"`
	TokenSHA256 string   `yaml:"token_sha256"`
}

// LoadCoordinator reads and validates a coordinator config file.
func LoadCoordinator(path string) (*Coordinator, error) {
	var c Coordinator
	if err := decodeStrict(path, &c); err != nil {
		return nil, err
	}
	if err := c.validate(path); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Coordinator) validate(file string) error {
	var p problems
	checkAddr("listen", c.Listen, &p)
	c.validateHTTPAPI(file, &p)
	c.Identity.validate("identity", file, &p)
	if len(c.Sites) == 0 {
		p.add("sites", "%v (at least one site agent)", errEmpty)
	}
	names := map[string]bool{}
	for i, s := range c.Sites {
		path := fmt.Sprintf("sites[%d]", i)
		switch {
		case !siteName.MatchString(s.Name):
			p.add(path+".name", "%q is not a site name (lowercase letters, digits, - and _)", s.Name)
		case names[s.Name]:
			p.add(path+".name", "site %q is declared twice", s.Name)
		}
		names[s.Name] = true
		checkAddr(path+".address", s.Address, &p)
		checkID(path+".spiffe_id", s.SPIFFEID, &p)
		switch s.Dialect {
		case "", "duckdb", "postgres", "postgresql", "mysql", "mariadb", "spark", "flink":
		default:
			p.add(path+".dialect", "%q is not a known dialect (duckdb, postgres, mysql, spark, flink)", s.Dialect)
		}
	}
	if len(c.Analysts) == 0 && c.AnalystCredentials == nil {
		p.add("analysts", "%v (nobody could query; list analysts with static tokens or configure analyst_credentials)", errEmpty)
	}
	if c.AnalystCredentials != nil {
		c.AnalystCredentials.validate("analyst_credentials", file, false, &p)
	}
	ids := map[string]bool{}
	tokens := map[string]bool{}
	for i, a := range c.Analysts {
		path := fmt.Sprintf("analysts[%d]", i)
		switch {
		case a.ID == "":
			p.add(path+".id", "%v", errEmpty)
		case ids[a.ID]:
			p.add(path+".id", "analyst %q is declared twice", a.ID)
		}
		ids[a.ID] = true
		if b, err := hex.DecodeString(a.TokenSHA256); err != nil || len(b) != 32 {
			p.add(path+".token_sha256", "must be the hex SHA-256 of the analyst's token (64 hex digits)")
		} else if tokens[a.TokenSHA256] {
			p.add(path+".token_sha256", "token is shared with another analyst")
		}
		tokens[a.TokenSHA256] = true
	}
	c.Audit.validate("audit", file, &p)
	if c.QueryTimeout == 0 {
		c.QueryTimeout = Duration(60 * time.Second)
	} else if c.QueryTimeout < 0 {
		p.add("query_timeout", "must be positive")
	}
	if c.Quotas.MaxConcurrentPerAnalyst < 0 {
		p.add("quotas.max_concurrent_per_analyst", "must not be negative")
	}
	if c.Quotas.MaxQueriesPerMinute < 0 {
		p.add("quotas.max_queries_per_minute", "must not be negative")
	}
	if len(c.PartialAnswers.Purposes) > 0 && len(c.PartialAnswers.Roles) == 0 {
		p.add("partial_answers.roles", "%v (purposes alone allow nobody; list the roles that may ask for partial answers)", errEmpty)
	}
	c.Log.validate("log", &p)
	if c.Policy != nil {
		c.Policy.validate("policy", file, &p)
	}
	for i := range c.Review.Logs {
		c.Review.Logs[i] = resolve(file, c.Review.Logs[i])
	}
	for i := range c.Review.PublicKeys {
		c.Review.PublicKeys[i] = resolve(file, c.Review.PublicKeys[i])
	}
	return p.err(file)
}
