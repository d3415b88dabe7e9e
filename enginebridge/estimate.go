package enginebridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

var (
	_ RowEstimator = (*Postgres)(nil)
	_ RowEstimator = (*MySQL)(nil)
	_ RowEstimator = (*DuckDB)(nil)
)

// EstimateRows reads the planner statistics (pg_class.reltuples) of the
// table found on the session's search_path. A table never analyzed has no
// estimate: that is an error, so routing falls back to the default profile.
func (p *Postgres) EstimateRows(ctx context.Context, table string) (int64, error) {
	var n float64
	err := p.db.QueryRowContext(ctx,
		"SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass(quote_ident($1))", table).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("postgres: estimate rows of %q: no such table", table)
	case err != nil:
		return 0, fmt.Errorf("postgres: estimate rows of %q: %w", table, err)
	case n < 0:
		return 0, fmt.Errorf("postgres: estimate rows of %q: no statistics (run ANALYZE)", table)
	}
	return int64(n), nil
}

// EstimateRows reads information_schema.tables.table_rows (InnoDB's
// estimate) for the table in the connection's database.
func (m *MySQL) EstimateRows(ctx context.Context, table string) (int64, error) {
	var n sql.NullInt64
	err := m.db.QueryRowContext(ctx,
		"SELECT table_rows FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("mysql: estimate rows of %q: no such table", table)
	case err != nil:
		return 0, fmt.Errorf("mysql: estimate rows of %q: %w", table, err)
	case !n.Valid:
		return 0, fmt.Errorf("mysql: estimate rows of %q: no statistics", table)
	}
	return n.Int64, nil
}

// EstimateRows counts the table's rows: DuckDB answers count(*) over
// Parquet from file metadata and over its own tables from storage
// statistics, without scanning values.
func (d *DuckDB) EstimateRows(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("duckdb: estimate rows of %q: %w", table, err)
	}
	return n, nil
}
