package certs

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func serialOf(t *testing.T, s Source) string {
	t.Helper()
	svid, err := s.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	return svid.Certificates[0].SerialNumber.String()
}

// live is a coordinator identity in its own directory, as a deployment
// would mount it, loaded with OpenFiles.
func live(t *testing.T, d domain, logs *logBuf) (*FileSource, string, string, string) {
	t.Helper()
	dir := t.TempDir()
	cert, key := Paths(dir, "svid")
	bundle := filepath.Join(dir, "bundle.pem")
	c0, k0 := Paths(d.dir, CoordinatorName)
	copyFile(t, c0, cert)
	copyFile(t, k0, key)
	copyFile(t, d.bundlePath(), bundle)
	src, err := OpenFiles(FileOptions{Cert: cert, Key: key, Bundle: bundle, Interval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return src, cert, key, bundle
}

func TestFileSourceReloadsRotatedSVID(t *testing.T) {
	t.Parallel()
	d := newDomain(t, "example.org", nil, 0)
	logs := &logBuf{}
	src, cert, key, _ := live(t, d, logs)
	before := serialOf(t, src)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Rotate the way the dev CA does: key then certificate, each renamed
	// into place. Run must never serve the new key with the old cert.
	newCert, newKey, err := d.ca.Issue(CoordinatorID(d.td), time.Hour, t.TempDir(), "next")
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, newKey, key)
	copyFile(t, newCert, cert)
	deadline := time.Now().Add(5 * time.Second)
	for serialOf(t, src) == before {
		if time.Now().After(deadline) {
			t.Fatalf("SVID not reloaded within 5s; logs:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	svid, _ := src.GetX509SVID()
	if svid.ID != CoordinatorID(d.td) {
		t.Errorf("ID after reload = %s", svid.ID)
	}
	if !strings.Contains(logs.String(), "identity files reloaded") {
		t.Errorf("reload not logged:\n%s", logs)
	}
}

func TestFileSourceKeepsOldSVIDOnBadFiles(t *testing.T) {
	t.Parallel()
	good := newDomain(t, "example.org", nil, 0, "a")
	other := newDomain(t, "example.org", nil, 0) // another CA for the same trust domain
	otherCert, otherKey := Paths(other.dir, CoordinatorName)
	_, siteKey := Paths(good.dir, "site-a")
	tests := []struct {
		name   string
		break_ func(t *testing.T, cert, key, bundle string)
		want   string
	}{
		{"garbage certificate", func(t *testing.T, cert, _, _ string) {
			if err := os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nnope\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "load SVID (cert "},
		{"key of another SVID", func(t *testing.T, _, key, _ string) { copyFile(t, siteKey, key) }, "load SVID (cert "},
		{"certificate rotated before its bundle", func(t *testing.T, cert, key, _ string) {
			copyFile(t, otherKey, key)
			copyFile(t, otherCert, cert)
		}, "does not chain to trust bundle"},
		{"bundle rotated before the certificate", func(t *testing.T, _, _, bundle string) {
			copyFile(t, other.bundlePath(), bundle)
		}, "does not chain to trust bundle"},
		{"empty bundle", func(t *testing.T, _, _, bundle string) {
			if err := os.WriteFile(bundle, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "no certificates"},
		{"deleted key", func(t *testing.T, _, key, _ string) {
			if err := os.Remove(key); err != nil {
				t.Fatal(err)
			}
		}, "cannot read key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuf{}
			src, cert, key, bundle := live(t, good, logs)
			before := serialOf(t, src)
			tt.break_(t, cert, key, bundle)
			changed, err := src.Reload()
			if changed || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reload() = %v, %v; want refusal containing %q", changed, err, tt.want)
			}
			if got := serialOf(t, src); got != before {
				t.Errorf("SVID changed to serial %s after a bad reload", got)
			}
			if _, err := src.GetX509BundleForTrustDomain(good.td); err != nil {
				t.Errorf("bundle lost after a bad reload: %v", err)
			}
			if l := logs.String(); !strings.Contains(l, "keeping the current SVID") || !strings.Contains(l, tt.want) {
				t.Errorf("refusal not logged with its reason:\n%s", l)
			}
		})
	}
}

func TestFileSourceFederatedBundles(t *testing.T) {
	t.Parallel()
	hq := newDomain(t, "hq.example", nil, 0)
	deptA := newDomain(t, "dept-a.example", nil, 0, "a")
	deptB := newDomain(t, "dept-b.example", nil, 0)
	cert, key := Paths(hq.dir, CoordinatorName)
	fed := map[spiffeid.TrustDomain]string{deptA.td: deptA.bundlePath(), deptB.td: deptB.bundlePath()}
	src, err := OpenFiles(FileOptions{Cert: cert, Key: key, Bundle: hq.bundlePath(), Federated: fed})
	if err != nil {
		t.Fatal(err)
	}
	for _, td := range []spiffeid.TrustDomain{hq.td, deptA.td, deptB.td} {
		b, err := src.GetX509BundleForTrustDomain(td)
		if err != nil || b.TrustDomain() != td {
			t.Errorf("bundle for %s: %v, %v", td, b, err)
		}
	}
	_, err = src.GetX509BundleForTrustDomain(spiffeid.RequireTrustDomainFromString("evil.org"))
	if err == nil || !strings.Contains(err.Error(), `"dept-a.example"`) || !strings.Contains(err.Error(), `"evil.org"`) {
		t.Errorf("unknown trust domain error = %v; want it to name evil.org and the trusted domains", err)
	}

	// A federated bundle claiming the source's own trust domain is refused.
	_, err = OpenFiles(FileOptions{Cert: cert, Key: key, Bundle: hq.bundlePath(),
		Federated: map[spiffeid.TrustDomain]string{hq.td: deptA.bundlePath()}})
	if err == nil || !strings.Contains(err.Error(), "own") {
		t.Errorf("own trust domain as federated: err = %v", err)
	}
}
