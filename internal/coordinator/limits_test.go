package coordinator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/review"
	"github.com/fedmesh/fedmesh/planner"
)

// offlineCoordinator is a coordinator whose one site, a, holds sales but
// cannot be reached: a query that gets as far as contacting it fails with
// site_failed.
func offlineCoordinator(t *testing.T) *Coordinator {
	t.Helper()
	dir := t.TempDir()
	alog, err := audit.Open(filepath.Join(dir, "coordinator.log"), audit.Options{Component: audit.ComponentCoordinator})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = alog.Close() })
	noCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return nil, errors.New("no certificate in this test")
	}
	client, err := flight.NewClient([]flight.Target{{Site: "a", Addr: "127.0.0.1:1", TLS: &tls.Config{GetClientCertificate: noCert}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	sites := []Site{{Name: "a"}}
	c := &Coordinator{cfg: Config{Sites: sites, QueryTimeout: 10 * time.Second}, log: slog.New(slog.DiscardHandler),
		audit: alog, client: client, catalogs: newCatalogs(sites)}
	c.catalogs.set("a", &flight.CatalogResult{Site: "a", Declared: true, Tables: []planner.TableSchema{{Name: "sales",
		Columns: []planner.ColumnSchema{{Name: "region", Type: "VARCHAR"}, {Name: "amount", Type: "DOUBLE"}}}}})
	return c
}

// TestPlanTooLargeIsRefusedBeforeSending: a query whose sub-plan breaks a
// size limit is a 400 plan_too_large naming the limit and the value, and no
// site is contacted (the only site here is unreachable: contacting it
// would be a 502).
func TestPlanTooLargeIsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	terms := make([]string, 20_000)
	for i := range terms {
		terms[i] = fmt.Sprintf("region = 'r%d'", i)
	}
	items := func(n, size int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("'%0*d'", size, i)
		}
		return strings.Join(s, ", ")
	}
	tests := []struct {
		name, sql string
		want      []string
	}{
		{"20,000-term OR", "SELECT COUNT(*) FROM sales WHERE " + strings.Join(terms, " OR "), []string{"MaxPlanNodes = 5000"}},
		{"long IN list", "SELECT COUNT(*) FROM sales WHERE region IN (" + items(1500, 3) + ")", []string{"1500 items in one IN list", "MaxInList = 1000"}},
		{"long string", "SELECT COUNT(*) FROM sales WHERE region = '" + strings.Repeat("x", 10_000) + "'", []string{"10000 bytes", "MaxStringLiteral = 4096"}},
		// One mention of a 400 kB expression, three partials (COUNT, SUM,
		// VAR_POP) carrying it: a ticket over 1 MiB from a request under it.
		{"ticket over 1 MiB", "SELECT STDDEV_POP(CASE WHEN region IN (" + items(400, 1000) + ") THEN amount END) FROM sales",
			[]string{"MaxTicketSize = 1048576", "nothing was sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := offlineCoordinator(t)
			_, err := c.Query(context.Background(), Analyst{ID: "alice", Roles: []string{"analyst"}}, tt.sql, "test")
			var qe *QueryError
			if !errors.As(err, &qe) || qe.HTTPStatus != http.StatusBadRequest || qe.Code != CodePlanTooLarge {
				t.Fatalf("Query = %v, want 400 plan_too_large", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(qe.Message, w) {
					t.Errorf("message %q does not say %q", qe.Message, w)
				}
			}
		})
	}
}

// TestAuditorRunsNoDataQueries: the auditor role reads the audit trail; it
// runs data queries only with another role besides.
func TestAuditorRunsNoDataQueries(t *testing.T) {
	t.Parallel()
	c := offlineCoordinator(t)
	for _, tc := range []struct {
		roles  []string
		wantCo ErrorCode
	}{
		{[]string{review.RoleAuditor}, CodeForbidden},
		{[]string{review.RoleAuditor, review.RoleAuditor}, CodeForbidden},
		{[]string{"analyst", review.RoleAuditor}, CodeSiteFailed}, // allowed; the site is unreachable
		{[]string{"analyst"}, CodeSiteFailed},
	} {
		_, err := c.Query(context.Background(), Analyst{ID: "audrey", Roles: tc.roles}, "SELECT COUNT(*) FROM sales", "test")
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Code != tc.wantCo {
			t.Errorf("roles %v: Query = %v, want %s", tc.roles, err, tc.wantCo)
			continue
		}
		if tc.wantCo == CodeForbidden && (qe.HTTPStatus != http.StatusForbidden || !strings.Contains(qe.Message, "only the auditor role")) {
			t.Errorf("roles %v: %d %q, want 403 naming the auditor role", tc.roles, qe.HTTPStatus, qe.Message)
		}
	}
}
