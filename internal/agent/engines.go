package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/secrets"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
)

// openEngines opens the site's engines from the config file: one engine,
// or several with profiles combined into an enginebridge.Profiles that
// routes each sub-plan. Vault references in DSNs and passwords are read
// once, here; the resolved values live only in the engines' connection
// settings.
func openEngines(ctx context.Context, f *config.Agent, tables []enginebridge.TableSource, logger *slog.Logger) (enginebridge.Engine, error) {
	var vault *secrets.Vault
	resolve := func(field, s string) (string, error) {
		if !secrets.IsRef(s) {
			return s, nil
		}
		if vault == nil {
			v, err := openVault(ctx, f.Vault, logger)
			if err != nil {
				return "", fmt.Errorf("%s: %w", field, err)
			}
			vault = v
		}
		val, err := vault.Resolve(ctx, s)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		return val, nil
	}
	var profiles []enginebridge.Profile
	closeAll := func() {
		for _, p := range profiles {
			_ = p.Engine.Close()
		}
	}
	for i, ec := range f.SiteEngines() {
		field := "engine"
		if len(f.Engines) > 0 {
			field = fmt.Sprintf("engines[%d]", i)
		}
		e, err := openEngine(ctx, field, ec, tables, resolve, logger)
		if err != nil {
			closeAll()
			return nil, err
		}
		profiles = append(profiles, enginebridge.Profile{Name: ec.Profile, Engine: e})
	}
	if len(f.Engines) == 0 {
		return profiles[0].Engine, nil
	}
	p, err := enginebridge.NewProfiles(profiles, enginebridge.RoutingRule{
		Kind: f.Routing.Rule, LargeRows: f.Routing.LargeRows,
		Small: f.Routing.Small, Large: f.Routing.Large, Tags: f.Routing.Tags,
	}, logger)
	if err != nil {
		closeAll()
		return nil, err
	}
	return p, nil
}

func openEngine(ctx context.Context, field string, ec config.Engine, tables []enginebridge.TableSource,
	resolve func(field, s string) (string, error), logger *slog.Logger) (enginebridge.Engine, error) {
	if ec.Type == config.EngineDuckDB || ec.Type == "" {
		e, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: tables, Threads: ec.Threads, MemoryLimit: ec.MemoryLimit}, logger)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return e, nil
	}
	dsn, err := resolve(field+".dsn", ec.DSN)
	if err != nil {
		return nil, err
	}
	password, err := resolve(field+".password", ec.Password)
	if err != nil {
		return nil, err
	}
	var e enginebridge.Engine
	switch ec.Type {
	case config.EnginePostgres:
		e, err = enginebridge.OpenPostgres(ctx, enginebridge.PostgresConfig{DSN: dsn, Password: password, MaxConns: ec.MaxConns}, logger)
	case config.EngineMySQL:
		e, err = enginebridge.OpenMySQL(ctx, enginebridge.MySQLConfig{DSN: dsn, Password: password, MaxConns: ec.MaxConns}, logger)
	case config.EngineFlink:
		// The site's tables become temporary tables of the gateway session.
		e, err = enginebridge.OpenFlink(ctx, enginebridge.FlinkConfig{URL: dsn, Tables: tables}, logger)
	case config.EngineSpark:
		// The site's tables become temporary views of the Spark session;
		// Spark reads the files itself.
		e, err = enginebridge.OpenSpark(ctx, enginebridge.SparkConfig{URL: dsn, Tables: tables}, logger)
	default:
		err = fmt.Errorf("unknown engine type %q", ec.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return e, nil
}

func openVault(ctx context.Context, vc *config.Vault, logger *slog.Logger) (*secrets.Vault, error) {
	if vc == nil {
		return nil, errors.New("a vault: reference needs a vault section in the config file")
	}
	cfg := secrets.VaultConfig{Address: vc.Address, RoleID: vc.RoleID}
	readFile := func(what, path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("vault.%s: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var err error
	switch {
	case vc.RoleID != "":
		cfg.SecretID, err = readFile("secret_id_file", vc.SecretIDFile)
	case vc.TokenFile != "":
		cfg.Token, err = readFile("token_file", vc.TokenFile)
	default:
		cfg.Token = os.Getenv(vc.TokenEnv)
		if cfg.Token == "" {
			err = fmt.Errorf("vault: no token: set token_file, role_id, or the environment variable %s", vc.TokenEnv)
		}
	}
	if err != nil {
		return nil, err
	}
	return secrets.NewVault(ctx, cfg, logger)
}

// chooseEngine picks the engine (and its dialect) for one sub-plan. For a
// site with engine profiles the choice is returned too, for the audit
// record; EXPLAIN can call the same enginebridge.Chooser.
func (h *handler) chooseEngine(ctx context.Context, sp *planner.SubPlan) (enginebridge.Engine, render.Dialect, *enginebridge.Choice, error) {
	ch, ok := h.engine.(enginebridge.Chooser)
	if !ok {
		return h.engine, h.dialect, nil, nil
	}
	c, err := ch.Choose(ctx, sp.Table, sp.Purpose)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("choose engine profile: %w", err)
	}
	if sp.Join != nil {
		// Both tables of a join must live in the engine that joins them.
		cj, err := ch.Choose(ctx, sp.Join.Table, sp.Purpose)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("choose engine profile for joined table %q: %w", sp.Join.Table, err)
		}
		if cj.Profile != c.Profile {
			return nil, nil, nil, fmt.Errorf("tables %q (engine profile %q) and %q (profile %q) are in different engines and cannot be joined here",
				sp.Table, c.Profile, sp.Join.Table, cj.Profile)
		}
	}
	d, err := render.DialectByName(c.Dialect)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("engine profile %q: %w", c.Profile, err)
	}
	return c.Engine, d, &c, nil
}
