package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/secrets"
	"github.com/fedmesh/fedmesh/internal/testenv"
)

// TestFederationOnRealEngines runs the skeleton's differential queries and
// the sketch queries on a five-site federation with one engine per site —
// a DuckDB, b PostgreSQL, c MariaDB, d Spark (through Spark Connect), e
// Flink (through the SQL Gateway) — each holding that site's sample rows,
// and compares with DuckDB over the union of the five sites' rows, with
// small-group suppression (k=10). The engines' partial types differ
// (NUMERIC and DECIMAL sums, INTEGER years), so the merge and the sketches'
// hashing must treat equal values alike. The PostgreSQL and MariaDB
// passwords are not in their DSNs: the agents read them from the Vault dev
// server, logged in with AppRole.
func TestFederationOnRealEngines(t *testing.T) {
	fx := sharedFixture(t)
	const k = 10
	wrap := fiveEngines(t, fx)
	t.Run("skeleton queries", func(t *testing.T) {
		fed := startFederation(t, fedOptions{sites: sites5, minGroupSize: k, wrapEngine: wrap})
		for _, c := range differentialCases {
			t.Run(c.name, func(t *testing.T) {
				got := fed.query(c.sql)
				if got.Status != 200 {
					t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
				}
				want, wantSupp := referenceOver(t, fx, sites5, c, k)
				ordered := strings.Contains(c.sql, "ORDER BY")
				if d := diffRows(normRows(got.Rows, !ordered), normRows(want, !ordered)); d != "" {
					t.Errorf("%s\n%s", c.sql, d)
				}
				if len(got.Sites) != len(sites5) {
					t.Errorf("answer names %d sites, want all of %v: %+v", len(got.Sites), sites5, got.Sites)
				}
				for _, s := range got.Sites {
					if s.SuppressedGroups != wantSupp[s.Site] {
						t.Errorf("site %s suppressed %d groups, want %d", s.Site, s.SuppressedGroups, wantSupp[s.Site])
					}
				}
			})
		}
		// The audit records name the engine each site ran.
		for site, engine := range map[string]string{"site-a": "duckdb", "site-b": "postgres", "site-c": "mysql", "site-d": "spark", "site-e": "flink"} {
			data, err := os.ReadFile(fed.audits[site])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"engine":"`+engine+`"`) {
				t.Errorf("%s audit log does not record engine %q", site, engine)
			}
		}
	})
	t.Run("sketches", func(t *testing.T) {
		opts := sketchFedOptions(t, k, sites5)
		opts.wrapEngine = wrap
		fed := startFederation(t, opts)
		for _, c := range sketchCases {
			t.Run(c.name, func(t *testing.T) {
				checkSketchCase(t, fed, fx, sites5, c, k)
			})
		}
	})
}

// fiveEngines loads sites b and c's sample rows into the test PostgreSQL
// and MariaDB and returns a fedOptions.wrapEngine that gives site a
// DuckDB, b PostgreSQL and c MariaDB (passwords read from Vault), d Spark
// and e Flink (over the site's sample files). Every federation started with
// it opens engines of its own. Without the servers it fails (skips under -short).
func fiveEngines(t *testing.T, fx fixture) func(site string, duck enginebridge.Engine) enginebridge.Engine {
	t.Helper()
	pgDSN := testenv.Server(t, "postgres", "FEDMESH_PG_DSN")
	pgAdmin := testenv.Server(t, "postgres", "FEDMESH_PG_ADMIN_DSN")
	myDSN := testenv.Server(t, "mariadb", "FEDMESH_MYSQL_DSN")
	myAdmin := testenv.Server(t, "mariadb", "FEDMESH_MYSQL_ADMIN_DSN")
	sparkURL := testenv.Server(t, "spark", "FEDMESH_SPARK_URL")
	flinkURL := testenv.Server(t, "flink", "FEDMESH_FLINK_URL")
	ctx := context.Background()
	ns := fmt.Sprintf("e2e_%d", time.Now().UnixNano())

	loadPostgres(t, pgAdmin, ns, fx.files["b"].Sales, fx.files["b"].Customers)
	loadMariaDB(t, myAdmin, ns, fx.files["c"].Sales, fx.files["c"].Customers)

	pgPass, pgNoPass := splitPGPassword(t, pgDSN)
	myCfg, err := mysql.ParseDSN(myDSN)
	if err != nil {
		t.Fatal(err)
	}
	myPass := myCfg.Passwd
	myCfg.Passwd, myCfg.DBName = "", ns
	myNoPass := myCfg.FormatDSN()
	pgNoPass += "&search_path=" + ns

	creds := credentialSource(t, ns, map[string]string{"pg": pgPass, "mariadb": myPass})
	sampleTables := func(site string) []enginebridge.TableSource {
		return []enginebridge.TableSource{
			{Name: "sales", Format: enginebridge.FormatParquet, Path: fx.files[site].Sales},
			{Name: "customers", Format: enginebridge.FormatParquet, Path: fx.files[site].Customers},
		}
	}
	return func(site string, duck enginebridge.Engine) enginebridge.Engine {
		var (
			e   enginebridge.Engine
			err error
		)
		switch site {
		case "b":
			pw := creds(t, "vault:secret/data/"+ns+"/pg#password")
			e, err = enginebridge.OpenPostgres(ctx, enginebridge.PostgresConfig{DSN: pgNoPass, Password: pw}, nil)
		case "c":
			pw := creds(t, "vault:secret/data/"+ns+"/mariadb#password")
			e, err = enginebridge.OpenMySQL(ctx, enginebridge.MySQLConfig{DSN: myNoPass, Password: pw}, nil)
		case "d":
			e, err = enginebridge.OpenSpark(ctx, enginebridge.SparkConfig{URL: sparkURL, Tables: sampleTables(site)}, nil)
		case "e":
			e, err = enginebridge.OpenFlink(ctx, enginebridge.FlinkConfig{URL: flinkURL, Tables: sampleTables(site)}, nil)
		default:
			return duck
		}
		if err != nil {
			// The test fails; the site keeps its DuckDB so the federation
			// can still be stopped cleanly.
			t.Errorf("site %s: %v", site, err)
			return duck
		}
		_ = duck.Close()
		return e
	}
}

// credentialSource stores the passwords in Vault under secret/data/<ns>/,
// makes an AppRole allowed to read only that, logs in with it and returns a
// resolver. Without a Vault the test fails (skips under -short), like
// without the engines: the passwords never bypass Vault.
func credentialSource(t *testing.T, ns string, passwords map[string]string) func(*testing.T, string) string {
	addr := testenv.Server(t, "vault", "VAULT_ADDR")
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	root, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(testenv.Server(t, "vault", "VAULT_TOKEN"))
	for name, pw := range passwords {
		if _, err := root.Logical().Write("secret/data/"+ns+"/"+name, map[string]any{"data": map[string]any{"password": pw}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil &&
		!strings.Contains(err.Error(), "path is already in use") {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("sys/policies/acl/"+ns, map[string]any{
		"policy": fmt.Sprintf(`path "secret/data/%s/*" { capabilities = ["read"] }`, ns)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/approle/role/"+ns, map[string]any{"token_policies": []string{ns}, "token_ttl": "5m"}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/approle/role/" + ns + "/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/approle/role/"+ns+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.NewVault(context.Background(), secrets.VaultConfig{
		Address: addr, RoleID: rid.Data["role_id"].(string), SecretID: sid.Data["secret_id"].(string),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, ref string) string {
		pw, err := v.Resolve(context.Background(), ref)
		if err != nil {
			t.Errorf("resolve %s: %v", ref, err)
		}
		return pw
	}
}

// splitPGPassword returns the DSN's password and the DSN without it.
func splitPGPassword(t *testing.T, dsn string) (string, string) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		t.Fatalf("FEDMESH_PG_DSN must be a URL with a user: %v", err)
	}
	pw, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	return pw, u.String()
}

// parquetRows reads a parquet file's rows with DuckDB.
func parquetRows(t *testing.T, path string) ([]string, [][]any) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf("SELECT * FROM read_parquet('%s')", strings.ReplaceAll(path, "'", "''")))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

var sampleDDL = map[string]string{
	"sales":     "(order_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, region VARCHAR(64) NOT NULL, year INTEGER NOT NULL, amount DOUBLE PRECISION NOT NULL, status VARCHAR(64))",
	"customers": "(customer_id BIGINT NOT NULL, segment VARCHAR(64) NOT NULL, country VARCHAR(64) NOT NULL, birth_year INTEGER)",
}

// loadPostgres copies a site's sample tables into schema ns, readable by
// the test login only through SELECT.
func loadPostgres(t *testing.T, adminDSN, ns, sales, customers string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(q string) {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE SCHEMA " + ns)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), adminDSN)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+ns+" CASCADE")
			_ = c.Close(context.Background())
		}
	})
	for table, path := range map[string]string{"sales": sales, "customers": customers} {
		exec("CREATE TABLE " + ns + "." + table + " " + sampleDDL[table])
		cols, rows := parquetRows(t, path)
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{ns, table}, cols, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("copy %s: %v", table, err)
		}
		exec("ANALYZE " + ns + "." + table)
	}
	exec("GRANT USAGE ON SCHEMA " + ns + " TO fedmesh")
	exec("GRANT SELECT ON ALL TABLES IN SCHEMA " + ns + " TO fedmesh")
}

// loadMariaDB copies a site's sample tables into database ns.
func loadMariaDB(t *testing.T, adminDSN, ns, sales, customers string) {
	t.Helper()
	db, err := sql.Open("mysql", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%.200s: %v", q, err)
		}
	}
	exec("CREATE DATABASE " + ns)
	t.Cleanup(func() {
		if d, err := sql.Open("mysql", adminDSN); err == nil {
			_, _ = d.Exec("DROP DATABASE " + ns)
			_ = d.Close()
		}
	})
	for table, path := range map[string]string{"sales": sales, "customers": customers} {
		exec("CREATE TABLE " + ns + "." + table + " " + strings.Replace(sampleDDL[table], "DOUBLE PRECISION", "DOUBLE", 1))
		cols, rows := parquetRows(t, path)
		const batch = 500
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		for start := 0; start < len(rows); start += batch {
			end := min(start+batch, len(rows))
			var args []any
			for _, r := range rows[start:end] {
				args = append(args, r...)
			}
			exec("INSERT INTO "+ns+"."+table+" VALUES "+strings.TrimSuffix(strings.Repeat(row+",", end-start), ","), args...)
		}
		exec("ANALYZE TABLE " + ns + "." + table)
	}
	exec("GRANT SELECT ON " + ns + ".* TO 'fedmesh'@'127.0.0.1'")
}
