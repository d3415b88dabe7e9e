package enginebridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Chooser is the optional ability of an Engine made of several engines
// (see Profiles): it picks the one to run a sub-plan on. The agent renders
// the sub-plan in the chosen engine's dialect and records the choice.
type Chooser interface {
	// Choose picks an engine for a sub-plan over table, carrying tag (the
	// sub-plan's purpose). It fails only when no profile can be chosen.
	Choose(ctx context.Context, table, tag string) (Choice, error)
}

// RowEstimator is the optional ability to estimate a table's row count
// from the engine's statistics, cheaply (no scan where the engine keeps
// statistics).
type RowEstimator interface {
	EstimateRows(ctx context.Context, table string) (int64, error)
}

// Profile is one named engine of a site ("small", "large", ...).
type Profile struct {
	Name   string
	Engine Engine
}

// Routing rules.
const (
	RouteDefault       = ""               // always the first profile
	RouteEstimatedRows = "estimated_rows" // by the table's estimated rows
	RouteTag           = "tag"            // by the sub-plan's tag (purpose)
)

// RoutingRule picks a profile per sub-plan.
type RoutingRule struct {
	Kind string
	// RouteEstimatedRows: tables with at least LargeRows estimated rows go
	// to Large, others to Small. Unknown estimates go to the first profile.
	LargeRows    int64
	Small, Large string
	// RouteTag: tag → profile; other tags go to the first profile.
	Tags map[string]string
	// EstimateTTL caches estimates per table (default 1 minute).
	EstimateTTL time.Duration
}

// Choice is the engine chosen for one sub-plan and why, for the audit
// record and EXPLAIN.
type Choice struct {
	Profile       string `json:"profile"`
	Engine        Engine `json:"-"`
	Dialect       string `json:"dialect"`
	Reason        string `json:"reason"`
	EstimatedRows int64  `json:"estimated_rows"` // -1 when not estimated
}

// Profiles is an Engine made of several: as a plain Engine it is its first
// (default) profile; through Chooser it routes each sub-plan by its rule.
type Profiles struct {
	profiles []Profile
	byName   map[string]Engine
	rule     RoutingRule
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	estimates map[string]estimate
}

type estimate struct {
	rows int64
	at   time.Time
}

var (
	_ Engine  = (*Profiles)(nil)
	_ Chooser = (*Profiles)(nil)
)

// NewProfiles checks that the rule names existing profiles. The engines
// are owned by the result: Close closes them all.
func NewProfiles(profiles []Profile, rule RoutingRule, logger *slog.Logger) (*Profiles, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(profiles) == 0 {
		return nil, errors.New("engine profiles: none configured")
	}
	p := &Profiles{profiles: profiles, byName: map[string]Engine{}, rule: rule, now: time.Now,
		log: logger.With(logkey.Component, "enginebridge"), estimates: map[string]estimate{}}
	var errs []error
	for i, pr := range profiles {
		if pr.Name == "" || pr.Engine == nil {
			errs = append(errs, fmt.Errorf("engines[%d]: profile name and engine must be set", i))
			continue
		}
		if _, dup := p.byName[pr.Name]; dup {
			errs = append(errs, fmt.Errorf("engines[%d]: profile %q declared twice", i, pr.Name))
		}
		p.byName[pr.Name] = pr.Engine
	}
	known := func(field, name string) {
		if _, ok := p.byName[name]; !ok {
			errs = append(errs, fmt.Errorf("routing.%s: no engine has profile %q", field, name))
		}
	}
	switch rule.Kind {
	case RouteDefault:
	case RouteEstimatedRows:
		known("small", rule.Small)
		known("large", rule.Large)
		if rule.LargeRows <= 0 {
			errs = append(errs, errors.New("routing.large_rows: must be positive"))
		}
	case RouteTag:
		for tag, name := range rule.Tags {
			known("tags["+tag+"]", name)
		}
	default:
		errs = append(errs, fmt.Errorf("routing.rule: unknown rule %q (estimated_rows, tag)", rule.Kind))
	}
	if p.rule.EstimateTTL <= 0 {
		p.rule.EstimateTTL = time.Minute
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Choose implements Chooser.
func (p *Profiles) Choose(ctx context.Context, table, tag string) (Choice, error) {
	def := p.profiles[0]
	pick := func(name, reason string, rows int64) Choice {
		e := p.byName[name]
		return Choice{Profile: name, Engine: e, Dialect: e.Dialect(), Reason: reason, EstimatedRows: rows}
	}
	switch p.rule.Kind {
	case RouteEstimatedRows:
		rows, err := p.estimate(ctx, table)
		if err != nil {
			if ctx.Err() != nil {
				return Choice{}, fmt.Errorf("choose engine for table %q: %w", table, ctx.Err())
			}
			p.log.WarnContext(ctx, "row estimate failed; using the default profile", logkey.Table, table, logkey.Err, err)
			return pick(def.Name, "no row estimate for "+table+"; default profile", -1), nil
		}
		if rows >= p.rule.LargeRows {
			return pick(p.rule.Large, fmt.Sprintf("estimated %d rows >= %d", rows, p.rule.LargeRows), rows), nil
		}
		return pick(p.rule.Small, fmt.Sprintf("estimated %d rows < %d", rows, p.rule.LargeRows), rows), nil
	case RouteTag:
		if name, ok := p.rule.Tags[tag]; ok {
			return pick(name, fmt.Sprintf("tag %q", tag), -1), nil
		}
		return pick(def.Name, fmt.Sprintf("tag %q has no profile; default profile", tag), -1), nil
	default:
		return pick(def.Name, "default profile", -1), nil
	}
}

// estimate asks the first profile that can estimate, caching per table.
func (p *Profiles) estimate(ctx context.Context, table string) (int64, error) {
	p.mu.Lock()
	est, ok := p.estimates[table]
	p.mu.Unlock()
	if ok && p.now().Sub(est.at) < p.rule.EstimateTTL {
		return est.rows, nil
	}
	for _, pr := range p.profiles {
		re, ok := pr.Engine.(RowEstimator)
		if !ok {
			continue
		}
		rows, err := re.EstimateRows(ctx, table)
		if err != nil {
			return 0, fmt.Errorf("profile %q: %w", pr.Name, err)
		}
		p.mu.Lock()
		p.estimates[table] = estimate{rows: rows, at: p.now()}
		p.mu.Unlock()
		return rows, nil
	}
	return 0, errors.New("no engine can estimate rows")
}

// Dialect is the default profile's.
func (p *Profiles) Dialect() string { return p.profiles[0].Engine.Dialect() }

// Query runs on the default profile.
func (p *Profiles) Query(ctx context.Context, sql string, args []any) (array.RecordReader, error) {
	return p.profiles[0].Engine.Query(ctx, sql, args)
}

// Close closes every profile's engine.
func (p *Profiles) Close() error {
	var errs []error
	for _, pr := range p.profiles {
		if err := pr.Engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("profile %q: %w", pr.Name, err))
		}
	}
	return errors.Join(errs...)
}
