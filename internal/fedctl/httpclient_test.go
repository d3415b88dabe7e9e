package fedctl

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAForHTTPSCoordinator checks that --ca makes an https coordinator
// with a private CA reachable, and that without it the certificate is
// refused.
func TestCAForHTTPSCoordinator(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"tables":[{"name":"sales","columns":[],"sites":["a"]}],"undeclared_sites":[]}`)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "tables", "--coordinator", srv.URL, "--token", "tok", "--ca", ca)
	if code != exitOK || !strings.Contains(out, "sales") {
		t.Errorf("with --ca: exit %d, out %q, stderr %q", code, out, stderr)
	}
	code, _, stderr = run(t, "tables", "--coordinator", srv.URL, "--token", "tok")
	if code != exitFail || !strings.Contains(stderr, "certificate") {
		t.Errorf("without --ca: exit %d, stderr %q; want a certificate error", code, stderr)
	}
	code, _, stderr = run(t, "tables", "--coordinator", srv.URL, "--token", "tok", "--ca", filepath.Join(t.TempDir(), "none.pem"))
	if code != exitFail || !strings.Contains(stderr, "--ca") {
		t.Errorf("missing --ca file: exit %d, stderr %q", code, stderr)
	}
}
