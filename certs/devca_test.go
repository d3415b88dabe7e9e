package certs

import (
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

func TestInitDevCAValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts DevCAOptions
		want []string // substrings the error must contain
	}{
		{name: "empty trust domain", opts: DevCAOptions{Sites: []string{"a"}}, want: []string{"trust domain: must be set"}},
		{name: "bad trust domain", opts: DevCAOptions{TrustDomain: "Example.ORG"}, want: []string{`trust domain "Example.ORG"`}},
		{name: "uppercase site", opts: DevCAOptions{TrustDomain: "example.org", Sites: []string{"a", "B"}}, want: []string{`sites[1]: site name "B" is invalid`}},
		{name: "leading dash", opts: DevCAOptions{TrustDomain: "example.org", Sites: []string{"-a"}}, want: []string{`site name "-a" is invalid`}},
		{name: "path in site", opts: DevCAOptions{TrustDomain: "example.org", Sites: []string{"a/../b"}}, want: []string{`site name "a/../b" is invalid`}},
		{name: "empty site", opts: DevCAOptions{TrustDomain: "example.org", Sites: []string{""}}, want: []string{`site name "" is invalid`}},
		{name: "duplicate site", opts: DevCAOptions{TrustDomain: "example.org", Sites: []string{"a", "b", "a"}}, want: []string{`sites[2]: site name "a" duplicates sites[0]`}},
		{name: "negative ttl", opts: DevCAOptions{TrustDomain: "example.org", TTL: -time.Hour}, want: []string{"ttl -1h0m0s: must not be negative"}},
		{
			name: "every problem at once",
			opts: DevCAOptions{TrustDomain: "bad domain", Sites: []string{"ok", "Bad", "ok"}},
			want: []string{`trust domain "bad domain"`, `site name "Bad" is invalid`, `site name "ok" duplicates sites[0]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := tt.opts
			opts.OutDir = dir
			ca, err := InitDevCA(opts)
			if err == nil {
				t.Fatalf("InitDevCA(%+v) = %v, want error", tt.opts, ca)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("invalid options still wrote %d files", len(entries))
			}
		})
	}
	t.Run("no out dir", func(t *testing.T) {
		t.Parallel()
		_, err := InitDevCA(DevCAOptions{TrustDomain: "example.org"})
		if err == nil || !strings.Contains(err.Error(), "output directory: must be set") {
			t.Fatalf("err = %v, want output directory error", err)
		}
	})
}

func TestInitDevCAFiles(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	d := newDomain(t, "example.org", func() time.Time { return now }, 2*time.Hour, "a", "b_2")

	entries, err := os.ReadDir(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]os.FileMode{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = info.Mode().Perm()
	}
	want := map[string]os.FileMode{
		"bundle.pem": 0o644, "ca-key.pem": 0o600,
		"coordinator.pem": 0o644, "coordinator-key.pem": 0o600,
		"site-a.pem": 0o644, "site-a-key.pem": 0o600,
		"site-b_2.pem": 0o644, "site-b_2-key.pem": 0o600,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}

	ca := d.ca.Certificate()
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("bundle certificate is not a signing CA: IsCA=%v KeyUsage=%v", ca.IsCA, ca.KeyUsage)
	}
	if want := now.Add(20 * time.Hour); !ca.NotAfter.Equal(want) {
		t.Errorf("CA NotAfter = %v, want 10×TTL = %v", ca.NotAfter, want)
	}

	for name, wantID := range map[string]spiffeid.ID{
		CoordinatorName:   CoordinatorID(d.td),
		SiteFileName("a"): spiffeid.RequireFromString("spiffe://example.org/site/a"),
		"site-b_2":        spiffeid.RequireFromString("spiffe://example.org/site/b_2"),
	} {
		svid := d.source(t, name)
		leaf := svid.cur.Load().svid.Certificates[0]
		if diff := cmp.Diff([]*url.URL{wantID.URL()}, leaf.URIs); diff != "" {
			t.Errorf("%s URI SANs (-want +got):\n%s", name, diff)
		}
		if svid.ID() != wantID {
			t.Errorf("%s ID() = %s, want %s", name, svid.ID(), wantID)
		}
		if leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("%s: IsCA=%v KeyUsage=%v, want leaf with digital signature only", name, leaf.IsCA, leaf.KeyUsage)
		}
		if diff := cmp.Diff([]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage); diff != "" {
			t.Errorf("%s ExtKeyUsage (-want +got):\n%s", name, diff)
		}
		if want := now.Add(2 * time.Hour); !leaf.NotAfter.Equal(want) {
			t.Errorf("%s NotAfter = %v, want now+TTL = %v", name, leaf.NotAfter, want)
		}
		id, _, err := x509svid.Verify(svid.cur.Load().svid.Certificates, d.ca.Bundle(), x509svid.WithTime(now))
		if err != nil || id != wantID {
			t.Errorf("%s: Verify against bundle = %v, %v; want %s", name, id, err, wantID)
		}
	}
}

func TestInitDevCARefusesOverwrite(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0, "a")
	before, err := os.ReadFile(d.bundlePath())
	if err != nil {
		t.Fatal(err)
	}
	_, err = InitDevCA(DevCAOptions{TrustDomain: "example.org", OutDir: d.dir, Sites: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), d.bundlePath()+" already exists") {
		t.Fatalf("second InitDevCA err = %v, want refusal naming %s", err, d.bundlePath())
	}
	after, _ := os.ReadFile(d.bundlePath())
	if string(before) != string(after) {
		t.Fatal("refused InitDevCA still replaced bundle.pem")
	}

	if _, err := InitDevCA(DevCAOptions{TrustDomain: "example.org", OutDir: d.dir, Sites: []string{"a"}, Force: true}); err != nil {
		t.Fatalf("InitDevCA with Force: %v", err)
	}
	forced, _ := os.ReadFile(d.bundlePath())
	if string(forced) == string(before) {
		t.Fatal("InitDevCA with Force did not write a new bundle")
	}
	// Force re-issued every SVID from the new CA.
	if _, _, err := x509svid.Verify(d.source(t, "site-a").cur.Load().svid.Certificates, d.source(t, CoordinatorName)); err != nil {
		t.Fatalf("site-a after Force does not chain to the new bundle: %v", err)
	}
}

func TestLoadDevCAIssue(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	ca, err := LoadDevCA(d.dir)
	if err != nil {
		t.Fatalf("LoadDevCA: %v", err)
	}
	if ca.TrustDomain() != d.td {
		t.Errorf("loaded trust domain %s, want %s", ca.TrustDomain(), d.td)
	}
	out := filepath.Join(t.TempDir(), "nested")
	id := d.siteID(t, "late")
	certPath, keyPath, err := ca.Issue(id, time.Hour, out, SiteFileName("late"))
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	src, err := LoadFiles(certPath, keyPath, d.bundlePath())
	if err != nil {
		t.Fatalf("LoadFiles of issued SVID: %v", err)
	}
	if _, _, err := x509svid.Verify(src.cur.Load().svid.Certificates, src); err != nil {
		t.Errorf("SVID issued by loaded CA does not chain to the original bundle: %v", err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("issued key mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
}

func TestIssueNeverOutlivesCA(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	d := newDomain(t, "example.org", func() time.Time { return now }, time.Hour)
	certPath, _, err := d.ca.Issue(CoordinatorID(d.td), 100*time.Hour, t.TempDir(), "long")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := parseCertPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.NotAfter.Equal(d.ca.Certificate().NotAfter) {
		t.Errorf("SVID NotAfter = %v, want clamped to CA NotAfter %v", leaf.NotAfter, d.ca.Certificate().NotAfter)
	}
}

func TestLoadDevCAMismatchedKey(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	other := newDomain(t, "example.org", nil, 0)
	key, err := os.ReadFile(filepath.Join(other.dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, CAKeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDevCA(d.dir)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("LoadDevCA with foreign key err = %v, want mismatch error", err)
	}
	_, err = LoadDevCA(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), BundleFile) {
		t.Fatalf("LoadDevCA of empty dir err = %v, want error naming %s", err, BundleFile)
	}
}

func TestIssueRejects(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	tests := []struct {
		name   string
		id     spiffeid.ID
		ttl    time.Duration
		file   string
		wanted string
	}{
		{name: "other trust domain", id: spiffeid.RequireFromString("spiffe://evil.org/coordinator"), file: "x", wanted: `not in trust domain "example.org"`},
		{name: "zero id", file: "x", wanted: "SPIFFE ID is empty"},
		{name: "path in name", id: CoordinatorID(d.td), file: "../x", wanted: `file name "../x"`},
		{name: "negative ttl", id: CoordinatorID(d.td), ttl: -time.Second, file: "x", wanted: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, _, err := d.ca.Issue(tt.id, tt.ttl, dir, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.wanted) {
				t.Fatalf("Issue err = %v, want %q", err, tt.wanted)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			if len(names) != 0 {
				t.Errorf("rejected Issue wrote %v", names)
			}
		})
	}
}

func TestSiteID(t *testing.T) {
	t.Parallel()
	td := spiffeid.RequireTrustDomainFromString("example.org")
	id, err := SiteID(td, "a-1")
	if err != nil || id.String() != "spiffe://example.org/site/a-1" {
		t.Errorf("SiteID(a-1) = %v, %v", id, err)
	}
	if _, err := SiteID(td, "A"); err == nil || !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("SiteID(A) err = %v, want error naming \"A\"", err)
	}
	if got := CoordinatorID(td).String(); got != "spiffe://example.org/coordinator" {
		t.Errorf("CoordinatorID = %s", got)
	}
}
