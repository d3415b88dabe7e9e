package agent

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/policy"
)

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// signBundleDir writes .signatures.json for dir, as `opa sign --bundle .`
// run inside it does.
func signBundleDir(t *testing.T, dir string, key *rsa.PrivateKey) {
	t.Helper()
	b, err := bundle.NewCustomReader(bundle.NewDirectoryLoader(dir)).WithSkipBundleVerification(true).Read()
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := b.GenerateSignature(bundle.NewSigningConfig(string(priv), "RS256", ""), "default", true); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(b.Signatures)
	if err := os.WriteFile(filepath.Join(dir, ".signatures.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAgentWithoutAVerifiedBundleRefusesEverything starts the agent's
// policy with only an unsigned bundle while signatures are required: it
// logs why, denies every request, and starts allowing once a correctly
// signed bundle appears.
func TestAgentWithoutAVerifiedBundleRefusesEverything(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	vc, err := policy.NewVerificationConfig([]policy.VerificationKey{{ID: "default", Key: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}}, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeRevision(t, dir, "unsigned-1")
	logs := &lockedLog{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	src := &policy.PathSource{Path: dir, Options: policy.LoadOptions{Verification: vc}}

	// Without reload a refused bundle stops the agent.
	once := &Agent{cfg: Config{PolicySource: &policy.PathSource{Path: dir, Options: src.Options}, Logger: logger}, log: logger}
	if _, _, err := once.openPolicy(ctx); !errors.Is(err, policy.ErrVerification) {
		t.Fatalf("openPolicy without reload = %v, want a verification error", err)
	}

	a := &Agent{cfg: Config{PolicySource: src, PolicyPoll: 100 * time.Millisecond, Logger: logger}, log: logger}
	h, watch, err := a.openPolicy(ctx)
	if err != nil {
		t.Fatalf("openPolicy with reload: %v", err)
	}
	if !strings.Contains(logs.String(), "policy bundle refused at startup: signature verification failed; no bundle is loaded, so every export is refused") {
		t.Errorf("no clear log line; logs:\n%s", logs.String())
	}
	in := policy.NewInput(salesByRegion())
	if d, err := h.Evaluate(ctx, in); d.Allow || !errors.Is(err, policy.ErrNoPolicy) {
		t.Fatalf("with no verified bundle: allow=%v err=%v, want a denial", d.Allow, err)
	}
	srv, auditPath := newTestHandler(t, h)
	if _, err := srv.Serve(ctx, spiffeid.RequireFromString("spiffe://example.org/coordinator"), salesByRegion()); err == nil ||
		!strings.Contains(err.Error(), "fedmesh.no_policy: site a has no verified policy bundle loaded") {
		t.Errorf("query with no verified bundle: %v, want the no_policy reason", err)
	}
	if rec := lastAuditRecord(t, auditPath); rec["decision"] != "error" || rec["event"] != "decision" {
		t.Errorf("refusal not audited as a decision error: %v", rec)
	}
	go func() { _ = watch(ctx) }()

	writeRevision(t, dir, "signed-2")
	signBundleDir(t, dir, key)
	deadline := time.Now().Add(5 * time.Second)
	for h.Revision() != "signed-2" {
		if time.Now().After(deadline) {
			t.Fatalf("signed bundle not activated; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d, err := h.Evaluate(ctx, in); !d.Allow || err != nil {
		t.Errorf("after the signed bundle: allow=%v err=%v", d.Allow, err)
	}
}
