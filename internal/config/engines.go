package config

import (
	"fmt"
	"sort"
	"strings"
)

// Engine types.
const (
	EngineDuckDB   = "duckdb"
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
	EngineFlink    = "flink" // dsn: the Flink SQL Gateway's REST URL
	EngineSpark    = "spark" // dsn: the Spark Connect URL, sc://host:port
)

// engineAliases maps accepted spellings to an engine type.
var engineAliases = map[string]string{
	"": EngineDuckDB, EngineDuckDB: EngineDuckDB,
	EnginePostgres: EnginePostgres, "postgresql": EnginePostgres,
	EngineMySQL: EngineMySQL, "mariadb": EngineMySQL,
	EngineFlink: EngineFlink,
	EngineSpark: EngineSpark,
}

// Routing picks one of several engines (engines[].profile) per sub-plan.
type Routing struct {
	// Rule: estimated_rows (tables with at least large_rows rows, by the
	// engines' statistics, go to profile large, others to small) or tag
	// (the sub-plan's purpose looked up in tags). Without a rule the first
	// engine runs everything.
	Rule      string            `yaml:"rule,omitempty"`
	LargeRows int64             `yaml:"large_rows,omitempty"`
	Small     string            `yaml:"small,omitempty"`
	Large     string            `yaml:"large,omitempty"`
	Tags      map[string]string `yaml:"tags,omitempty"`
}

// Vault says where "vault:path#field" references in engine DSNs and
// passwords are read, and how the agent logs in: AppRole when role_id is
// set (secret id from secret_id_file), else a token from token_file or the
// environment variable token_env (default VAULT_TOKEN).
type Vault struct {
	Address      string `yaml:"address"`
	TokenFile    string `yaml:"token_file,omitempty"`
	TokenEnv     string `yaml:"token_env,omitempty"`
	RoleID       string `yaml:"role_id,omitempty"`
	SecretIDFile string `yaml:"secret_id_file,omitempty"`
}

// SiteEngines returns the engines to open: engines when set, else engine.
func (c *Agent) SiteEngines() []Engine {
	if len(c.Engines) > 0 {
		return c.Engines
	}
	return []Engine{c.Engine}
}

// usesDuckDB reports whether some engine reads the tables: files.
func (c *Agent) usesDuckDB() bool {
	for _, e := range c.SiteEngines() {
		if e.Type == EngineDuckDB || e.Type == "" {
			return true
		}
	}
	return false
}

func (c *Agent) validateEngines(file string, p *problems) {
	if len(c.Engines) > 0 && c.Engine != (Engine{}) {
		p.add("engine", "set engine or engines, not both")
	}
	if len(c.Engines) == 0 {
		c.Engine.validate("engine", c.Vault != nil, p)
		if c.Routing.Rule != "" {
			p.add("routing", "needs several engines (engines[] with profiles)")
		}
	}
	profiles := map[string]bool{}
	for i := range c.Engines {
		e := &c.Engines[i]
		path := fmt.Sprintf("engines[%d]", i)
		e.validate(path, c.Vault != nil, p)
		switch {
		case e.Profile == "":
			p.add(path+".profile", "%v (name each engine: small, large, ...)", errEmpty)
		case profiles[e.Profile]:
			p.add(path+".profile", "profile %q is declared twice", e.Profile)
		}
		profiles[e.Profile] = true
	}
	known := func(field, name string) {
		if !profiles[name] {
			names := make([]string, 0, len(profiles))
			for n := range profiles {
				names = append(names, n)
			}
			sort.Strings(names)
			p.add("routing."+field, "no engine has profile %q (profiles: %s)", name, strings.Join(names, ", "))
		}
	}
	if len(c.Engines) > 0 {
		switch c.Routing.Rule {
		case "":
		case "estimated_rows":
			known("small", c.Routing.Small)
			known("large", c.Routing.Large)
			if c.Routing.LargeRows <= 0 {
				p.add("routing.large_rows", "must be positive")
			}
		case "tag":
			if len(c.Routing.Tags) == 0 {
				p.add("routing.tags", "%v (map a query tag to a profile)", errEmpty)
			}
			tags := make([]string, 0, len(c.Routing.Tags))
			for tag := range c.Routing.Tags {
				tags = append(tags, tag)
			}
			sort.Strings(tags)
			for _, tag := range tags {
				known("tags."+tag, c.Routing.Tags[tag])
			}
		default:
			p.add("routing.rule", "unknown rule %q (estimated_rows, tag)", c.Routing.Rule)
		}
	}
	if v := c.Vault; v != nil {
		if v.Address == "" {
			p.add("vault.address", "%v", errEmpty)
		}
		if v.RoleID != "" && v.SecretIDFile == "" {
			p.add("vault.secret_id_file", "%v (AppRole login needs a secret id)", errEmpty)
		}
		if v.TokenFile != "" {
			v.TokenFile = resolve(file, v.TokenFile)
		}
		if v.SecretIDFile != "" {
			v.SecretIDFile = resolve(file, v.SecretIDFile)
		}
		if v.TokenEnv == "" {
			v.TokenEnv = "VAULT_TOKEN"
		}
	}
}

func (e *Engine) validate(path string, haveVault bool, p *problems) {
	typ, ok := engineAliases[e.Type]
	if !ok {
		p.add(path+".type", "unknown engine %q (duckdb, postgres, mysql, flink, spark)", e.Type)
		return
	}
	e.Type = typ
	if e.Threads < 0 {
		p.add(path+".threads", "must not be negative")
	}
	if e.MaxConns < 0 {
		p.add(path+".max_conns", "must not be negative")
	}
	switch typ {
	case EngineDuckDB:
		if e.DSN != "" || e.Password != "" {
			p.add(path+".dsn", "duckdb reads the tables: files; dsn and password are for postgres and mysql")
		}
	case EngineFlink:
		if !strings.HasPrefix(e.DSN, "http://") && !strings.HasPrefix(e.DSN, "https://") && !strings.HasPrefix(e.DSN, "vault:") {
			p.add(path+".dsn", "must be the Flink SQL Gateway's http(s) URL, e.g. http://127.0.0.1:8083")
		}
		if e.Password != "" || e.Threads != 0 || e.MemoryLimit != "" || e.MaxConns != 0 {
			p.add(path+".password", "flink takes only dsn (password, threads, memory_limit and max_conns are other engines' settings)")
		}
	case EngineSpark:
		if !strings.HasPrefix(e.DSN, "sc://") && !strings.HasPrefix(e.DSN, "vault:") {
			p.add(path+".dsn", "must be the Spark Connect URL, e.g. sc://127.0.0.1:15002")
		}
		if e.Password != "" || e.Threads != 0 || e.MemoryLimit != "" || e.MaxConns != 0 {
			p.add(path+".password", "spark takes only dsn (a token goes in the URL: sc://host:port/;token=…; password, threads, memory_limit and max_conns are other engines' settings)")
		}
	default:
		if e.DSN == "" {
			p.add(path+".dsn", "%v (a %s connection string)", errEmpty, typ)
		}
		if e.Threads != 0 || e.MemoryLimit != "" {
			p.add(path+".threads", "threads and memory_limit are duckdb settings")
		}
	}
	for _, f := range [][2]string{{"dsn", e.DSN}, {"password", e.Password}} {
		if strings.HasPrefix(f[1], "vault:") && !haveVault {
			p.add(path+"."+f[0], "is a vault: reference but the file has no vault section")
		}
	}
}
