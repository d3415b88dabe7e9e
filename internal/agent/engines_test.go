package agent

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	vault "github.com/hashicorp/vault/api"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/sampledata"
	"github.com/fedmesh/fedmesh/internal/testenv"
)

// TestOpenEnginesWithVaultPassword opens a PostgreSQL engine whose DSN has
// no password: the agent reads it from Vault, as the config file says.
func TestOpenEnginesWithVaultPassword(t *testing.T) {
	dsn := testenv.Server(t, "postgres", "FEDMESH_PG_DSN")
	addr := testenv.Server(t, "vault", "VAULT_ADDR")
	rootToken := testenv.Server(t, "vault", "VAULT_TOKEN")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username())

	cfg := vault.DefaultConfig()
	cfg.Address = addr
	root, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(rootToken)
	path := fmt.Sprintf("secret/data/agent-test-%d/pg", time.Now().UnixNano())
	if _, err := root.Logical().Write(path, map[string]any{"data": map[string]any{"password": password}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FEDMESH_TEST_VAULT_TOKEN", rootToken)
	f := &config.Agent{
		Engines: []config.Engine{
			{Profile: "pg", Type: config.EnginePostgres, DSN: u.String(), Password: "vault:" + path + "#password"},
		},
		Routing: config.Routing{Rule: "tag", Tags: map[string]string{"x": "pg"}},
		Vault:   &config.Vault{Address: addr, TokenEnv: "FEDMESH_TEST_VAULT_TOKEN"},
	}
	ctx := context.Background()
	e, err := openEngines(ctx, f, nil, nil)
	if err != nil {
		t.Fatalf("openEngines: %v", err)
	}
	defer e.Close()
	c, err := e.(enginebridge.Chooser).Choose(ctx, "t", "x")
	if err != nil || c.Profile != "pg" || c.Dialect != "postgres" {
		t.Fatalf("Choose = %+v, %v", c, err)
	}
	r, err := c.Engine.Query(ctx, "SELECT 1 AS one", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Release()

	f.Engines[0].Password = "vault:" + path + "-missing#password"
	_, err = openEngines(ctx, f, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "engines[0].password") || !strings.Contains(err.Error(), path+"-missing") {
		t.Errorf("missing secret: error %v, want one naming engines[0].password and the path", err)
	}
}

func TestOpenEnginesVaultRefWithoutVault(t *testing.T) {
	t.Parallel()
	f := &config.Agent{Engine: config.Engine{Type: config.EngineMySQL, DSN: "u@tcp(127.0.0.1:1)/d", Password: "vault:secret/data/x#p"}}
	_, err := openEngines(context.Background(), f, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "engine.password") || !strings.Contains(err.Error(), "vault section") {
		t.Errorf("error = %v, want one naming engine.password and the missing vault section", err)
	}
}

// TestOpenEnginesSparkAndFlink opens a site whose config declares a Spark
// (Spark Connect URL) and a Flink (SQL Gateway URL) engine as profiles over
// the site's parquet tables, as a site-agent config file would, and counts
// the rows of a table through each: the site's tables must become the
// engines' views and temporary tables under their logical names.
func TestOpenEnginesSparkAndFlink(t *testing.T) {
	sparkURL := testenv.Server(t, "spark", "FEDMESH_SPARK_URL")
	flinkURL := testenv.Server(t, "flink", "FEDMESH_FLINK_URL")
	ctx := context.Background()
	files, err := sampledata.Generate(ctx, t.TempDir(), "a", sampledata.Options{Seed: 3, SalesRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	tables := []enginebridge.TableSource{{Name: "sales", Format: enginebridge.FormatParquet, Path: files.Sales}}
	f := &config.Agent{
		Engines: []config.Engine{
			{Profile: "spark", Type: "spark", DSN: sparkURL},
			{Profile: "flink", Type: "flink", DSN: flinkURL},
		},
		Routing: config.Routing{Rule: "tag", Tags: map[string]string{"s": "spark", "f": "flink"}},
	}
	e, err := openEngines(ctx, f, tables, nil)
	if err != nil {
		t.Fatalf("openEngines: %v", err)
	}
	defer e.Close()
	for tag, dialect := range map[string]string{"s": "spark", "f": "flink"} {
		c, err := e.(enginebridge.Chooser).Choose(ctx, "sales", tag)
		if err != nil || c.Dialect != dialect {
			t.Fatalf("Choose(%s) = %+v, %v", tag, c, err)
		}
		r, err := c.Engine.Query(ctx, "SELECT COUNT(*) AS n FROM sales", nil)
		if err != nil {
			t.Fatalf("%s: %v", dialect, err)
		}
		var n int64
		for r.Next() {
			rec := r.RecordBatch()
			if rec.NumRows() == 1 {
				n = rec.Column(0).(*array.Int64).Value(0)
			}
		}
		if err := r.Err(); err != nil {
			t.Fatalf("%s: %v", dialect, err)
		}
		r.Release()
		if n != 500 {
			t.Errorf("%s counted %d sales rows, want 500", dialect, n)
		}
	}
}
