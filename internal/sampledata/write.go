package sampledata

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

const (
	salesDDL = `CREATE TABLE sales (order_id BIGINT NOT NULL, customer_id BIGINT NOT NULL,
		region VARCHAR NOT NULL, year INTEGER NOT NULL, amount DOUBLE NOT NULL, status VARCHAR)`
	customersDDL = `CREATE TABLE customers (customer_id BIGINT NOT NULL, segment VARCHAR NOT NULL,
		country VARCHAR NOT NULL, birth_year INTEGER)`
)

// writeParquet loads the rows into a private in-memory DuckDB with the
// appender and COPYs each table to parquet. One thread keeps row order and
// file bytes identical from run to run.
func writeParquet(ctx context.Context, dir string, sales []sale, customers []customer) (files Files, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("create output directory: %w", err)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return Files{}, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	defer func() { err = errors.Join(err, db.Close()) }()
	for _, stmt := range []string{"SET threads = 1", salesDDL, customersDDL} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return Files{}, fmt.Errorf("set up duckdb: %w", err)
		}
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		return Files{}, fmt.Errorf("connect duckdb: %w", err)
	}
	defer func() { err = errors.Join(err, conn.Close()) }()

	err = appendRows(conn, "sales", len(sales), func(i int) []driver.Value {
		s := sales[i]
		var status driver.Value
		if s.status != nil {
			status = *s.status
		}
		return []driver.Value{s.orderID, s.customerID, s.region, s.year, s.amount, status}
	})
	if err != nil {
		return Files{}, err
	}
	err = appendRows(conn, "customers", len(customers), func(i int) []driver.Value {
		c := customers[i]
		var by driver.Value
		if c.birthYear != nil {
			by = *c.birthYear
		}
		return []driver.Value{c.customerID, c.segment, c.country, by}
	})
	if err != nil {
		return Files{}, err
	}

	files = Files{Sales: filepath.Join(dir, "sales.parquet"), Customers: filepath.Join(dir, "customers.parquet")}
	if err := copyTo(ctx, db, "sales", "order_id", files.Sales); err != nil {
		return Files{}, err
	}
	if err := copyTo(ctx, db, "customers", "customer_id", files.Customers); err != nil {
		return Files{}, err
	}
	return files, nil
}

func appendRows(conn driver.Conn, table string, n int, row func(int) []driver.Value) error {
	app, err := duckdb.NewAppenderFromConn(conn, "", table)
	if err != nil {
		return fmt.Errorf("append to %s: %w", table, err)
	}
	for i := range n {
		if err := app.AppendRow(row(i)...); err != nil {
			return errors.Join(fmt.Errorf("append to %s row %d: %w", table, i, err), app.Close())
		}
	}
	if err := app.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", table, err)
	}
	return nil
}

// copyTo writes table to path via a temporary file and a rename, so readers
// never see a half-written parquet file.
func copyTo(ctx context.Context, db *sql.DB, table, key, path string) error {
	tmp := path + ".tmp"
	stmt := "COPY (SELECT * FROM " + table + " ORDER BY " + key + ") TO '" + strings.ReplaceAll(tmp, "'", "''") + "' (FORMAT parquet)"
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s to %q: %w", table, path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s to %q: %w", table, path, err)
	}
	return nil
}
