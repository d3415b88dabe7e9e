package enginebridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// PostgresConfig configures the PostgreSQL adapter.
type PostgresConfig struct {
	// DSN is a libpq connection string or URL
	// (postgres://user@host:5432/db?sslmode=verify-full).
	DSN string
	// Password, if set, replaces the DSN's password (e.g. one resolved from
	// Vault, so the DSN itself can be logged and stored in config files).
	Password string
	// MaxConns bounds open connections (default 4).
	MaxConns  int
	BatchSize int
	Allocator memory.Allocator
	// CancelGrace is how long a cancelled query may take to stop after
	// PostgreSQL's cancel request before the connection is dropped
	// (default 2s).
	CancelGrace time.Duration
}

// Postgres is an Engine over a PostgreSQL server. Sessions are read-only
// (default_transaction_read_only=on); give the login a role that can only
// SELECT the exposed tables as well.
type Postgres struct {
	db       *sql.DB
	rowsOpts RowsOptions
	logger   *slog.Logger
}

var _ Engine = (*Postgres)(nil)

// OpenPostgres connects to PostgreSQL and checks the connection.
func OpenPostgres(ctx context.Context, cfg PostgresConfig, logger *slog.Logger) (*Postgres, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DSN == "" {
		return nil, errors.New("open postgres engine: dsn: must be set")
	}
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("open postgres engine: dsn: %w", err)
	}
	if cfg.Password != "" {
		pc.Password = cfg.Password
	}
	grace := cfg.CancelGrace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	// pgx's default on a cancelled context only sets a deadline on the
	// socket: the client gives up but the server keeps working. A cancel
	// request stops the server's work; the deadline is the fallback.
	pc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: grace}
	}
	pc.RuntimeParams["default_transaction_read_only"] = "on"
	if pc.RuntimeParams["application_name"] == "" {
		pc.RuntimeParams["application_name"] = "fedmesh-site-agent"
	}
	db := stdlib.OpenDB(*pc)
	maxConns := cfg.MaxConns
	if maxConns <= 0 {
		maxConns = 4
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open postgres engine at %s: %w", pgTarget(pc), err), db.Close())
	}
	p := &Postgres{
		db:       db,
		rowsOpts: RowsOptions{BatchSize: cfg.BatchSize, Allocator: cfg.Allocator},
		logger:   logger.With(logkey.Component, "enginebridge", logkey.Engine, "postgres"),
	}
	p.logger.InfoContext(ctx, "postgres engine ready", logkey.Target, pgTarget(pc), logkey.MaxConns, maxConns)
	return p, nil
}

// pgTarget names the server without credentials, for logs and errors.
func pgTarget(pc *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
}

// Dialect returns "postgres".
func (p *Postgres) Dialect() string { return "postgres" }

// Query runs query with positional args ($1, $2, ...). Rows stream from the
// server as the reader is iterated. Cancelling ctx sends PostgreSQL a
// cancel request for the running statement.
func (p *Postgres) Query(ctx context.Context, query string, args []any) (array.RecordReader, error) {
	p.logger.DebugContext(ctx, "postgres query", slog.String(logkey.SQL, query), slog.Int(logkey.Args, len(args)))
	rows, err := p.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("postgres query: %w", err))
	}
	r, err := NewRowsReader(ctx, rows, postgresTypes, p.rowsOpts)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("postgres query: %w", err))
	}
	return r, nil
}

// Close closes the connection pool.
func (p *Postgres) Close() error {
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close postgres engine: %w", err)
	}
	return nil
}
