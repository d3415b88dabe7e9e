package enginebridge

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/go-sql-driver/mysql"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// MySQLConfig configures the MySQL / MariaDB adapter.
type MySQLConfig struct {
	// DSN is a go-sql-driver/mysql DSN: user@tcp(host:3306)/db?tls=true.
	DSN string
	// Password, if set, replaces the DSN's password (e.g. one from Vault).
	Password string
	// MaxConns bounds open query connections (default 4); one more is
	// kept for KILL QUERY.
	MaxConns  int
	BatchSize int
	Allocator memory.Allocator
}

// MySQL is an Engine over a MySQL or MariaDB server. Each query runs on a
// dedicated connection whose session is set READ ONLY; give the login
// SELECT-only grants as well.
type MySQL struct {
	db       *sql.DB // query connections
	killDB   *sql.DB // KILL QUERY, so a full pool cannot block a cancel
	target   string
	rowsOpts RowsOptions
	logger   *slog.Logger
}

var _ Engine = (*MySQL)(nil)

// OpenMySQL connects to MySQL / MariaDB and checks the connection.
func OpenMySQL(ctx context.Context, cfg MySQLConfig, logger *slog.Logger) (*MySQL, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DSN == "" {
		return nil, errors.New("open mysql engine: dsn: must be set")
	}
	mc, err := mysql.ParseDSN(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open mysql engine: dsn: %w", err)
	}
	if cfg.Password != "" {
		mc.Passwd = cfg.Password
	}
	// Dates and times as time.Time, in UTC on both ends.
	mc.ParseTime = true
	mc.Loc = time.UTC
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	mc.Params["time_zone"] = "'+00:00'"
	target := fmt.Sprintf("%s@%s(%s)/%s", mc.User, mc.Net, mc.Addr, mc.DBName)

	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("open mysql engine at %s: %w", target, err)
	}
	db := sql.OpenDB(connector)
	maxConns := cfg.MaxConns
	if maxConns <= 0 {
		maxConns = 4
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	killDB := sql.OpenDB(connector)
	killDB.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open mysql engine at %s: %w", target, err), db.Close(), killDB.Close())
	}
	m := &MySQL{
		db:       db,
		killDB:   killDB,
		target:   target,
		rowsOpts: RowsOptions{BatchSize: cfg.BatchSize, Allocator: cfg.Allocator},
		logger:   logger.With(logkey.Component, "enginebridge", logkey.Engine, "mysql"),
	}
	m.logger.InfoContext(ctx, "mysql engine ready", logkey.Target, target, logkey.MaxConns, maxConns)
	return m, nil
}

// Dialect returns "mysql".
func (m *MySQL) Dialect() string { return "mysql" }

// Query runs query with ? placeholders on a dedicated connection. Rows
// stream from the server as the reader is iterated. Cancelling ctx makes
// the driver drop the connection — which alone leaves the server working —
// so the adapter also sends KILL QUERY for that connection's id.
func (m *MySQL) Query(ctx context.Context, query string, args []any) (array.RecordReader, error) {
	m.logger.DebugContext(ctx, "mysql query", slog.String(logkey.SQL, query), slog.Int(logkey.Args, len(args)))
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("mysql query on %s: %w", m.target, err))
	}
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return nil, wrapCtxErr(ctx, errors.Join(fmt.Errorf("mysql query: connection id: %w", err), conn.Close()))
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION READ ONLY"); err != nil {
		return nil, wrapCtxErr(ctx, errors.Join(fmt.Errorf("mysql query: read-only session: %w", err), conn.Close()))
	}

	killDone := make(chan struct{})
	stopKill := context.AfterFunc(ctx, func() {
		defer close(killDone)
		m.killQuery(id)
	})
	var once sync.Once
	release := func() {
		once.Do(func() {
			stopped := stopKill()
			switch {
			case !stopped:
				// The kill ran or is running: wait for it.
				<-killDone
			case ctx.Err() != nil:
				// Cancelled, but this release won the race against the
				// AfterFunc (the driver saw the cancellation first), so
				// the kill never started: send it here.
				m.killQuery(id)
			default:
				_ = conn.Close()
				return
			}
			// Never hand a connection that a KILL may hit to another query.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			_ = conn.Close()
		})
	}
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		release()
		return nil, wrapCtxErr(ctx, fmt.Errorf("mysql query: %w", err))
	}
	opts := m.rowsOpts
	opts.OnRelease = release
	r, err := NewRowsReader(ctx, rows, mysqlTypes, opts)
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("mysql query: %w", err))
	}
	return r, nil
}

// killQuery stops the statement running on connection id. Failures are
// logged: the statement may simply have finished.
func (m *MySQL) killQuery(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.killDB.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id)); err != nil {
		m.logger.Warn("kill query after cancel failed", logkey.ConnectionID, id, logkey.Err, err)
		return
	}
	m.logger.Debug("killed query after cancel", logkey.ConnectionID, id)
}

// Close closes both connection pools.
func (m *MySQL) Close() error {
	if err := errors.Join(m.db.Close(), m.killDB.Close()); err != nil {
		return fmt.Errorf("close mysql engine: %w", err)
	}
	return nil
}
