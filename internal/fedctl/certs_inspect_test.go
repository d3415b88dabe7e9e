package fedctl

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
)

func TestCertsInspect(t *testing.T) {
	t.Parallel()
	good, other := t.TempDir(), t.TempDir()
	ca, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "dept-a.example", OutDir: good, Sites: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "dept-a.example", OutDir: other}); err != nil {
		t.Fatal(err)
	}
	ca.SetClock(func() time.Time { return time.Now().Add(-3 * time.Hour) })
	if _, _, err := ca.Issue(spiffeid.RequireFromString("spiffe://dept-a.example/site/a"), time.Hour, good, "old"); err != nil {
		t.Fatal(err)
	}
	siteA, _ := certs.Paths(good, certs.SiteFileName("a"))
	old, oldKey := certs.Paths(good, "old")
	bundle := filepath.Join(good, certs.BundleFile)
	foreign := filepath.Join(other, certs.BundleFile)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{name: "no bundle", args: []string{siteA}, want: []string{
			"spiffe_id:     spiffe://dept-a.example/site/a", "trust_domain:  dept-a.example", "expires in ", "not checked"}},
		{name: "chains to its bundle", args: []string{siteA, "--bundle", bundle}, want: []string{"verified:      yes"}},
		{name: "flag before file", args: []string{"--bundle", bundle, siteA}, want: []string{"verified:      yes"}},
		{name: "another CA's bundle", args: []string{siteA, "--bundle", foreign}, wantCode: exitFail,
			want: []string{"verified:      NO", "unknown authority"}},
		{name: "expired", args: []string{old, "--bundle", bundle}, wantCode: exitFail,
			want: []string{"EXPIRED 2h0m", "verified:      NO", "expired"}},
		{name: "a key is not an SVID", args: []string{oldKey}, wantCode: exitFail, want: []string{"no PEM certificate"}},
		{name: "no file", args: []string{"--bundle", bundle}, wantCode: exitUsage, want: []string{"exactly one SVID file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, append([]string{"certs", "inspect"}, tt.args...)...)
			out := stdout + stderr
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "PRIVATE KEY") {
				t.Errorf("output shows key material:\n%s", out)
			}
		})
	}
}
