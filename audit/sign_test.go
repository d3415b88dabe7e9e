package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func newTestSigner(t *testing.T) *Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(priv)
}

func keyringOf(signers ...*Signer) Keyring {
	k := Keyring{}
	for _, s := range signers {
		k.Add(s.Public())
	}
	return k
}

// writeSigned writes n sample records to dir/audit.log with a head every 3
// records and returns the path and a head of the last record, as a site
// would hand it to the coordinator.
func writeSigned(t *testing.T, dir string, s *Signer, n int) (string, SignedHead) {
	t.Helper()
	path := filepath.Join(dir, "audit.log")
	opts := testOptions(&logBuffer{})
	opts.Signer, opts.SignEvery = s, 3
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	var last SignedHead
	for i := 1; i <= n; i++ {
		rec, h, err := l.Append(context.Background(), sample(i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if last, err = l.Sign(rec.Seq, h); err != nil {
			t.Fatalf("Sign: %v", err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, last
}

var prevRE = regexp.MustCompile(`"prev":"[0-9a-f]*"`)

// rechain recomputes every hash and link, as a forger rewriting the whole
// file would; signed heads inside keep the values they were signed with.
func rechain(t *testing.T, ls [][]byte) [][]byte {
	t.Helper()
	prev := ""
	out := make([][]byte, len(ls))
	for i, l := range ls {
		l = prevRE.ReplaceAll(l, []byte(`"prev":"`+prev+`"`))
		out[i] = reseal(t, l)
		_, stored, _ := splitLine(bytes.TrimSuffix(out[i], []byte("\n")))
		prev = stored
	}
	return out
}

func TestSignedHeadsAreWrittenAndVerify(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	path, _ := writeSigned(t, t.TempDir(), s, 7)
	var heads int
	for _, l := range readLines(t, path) {
		if bytes.Contains(l, []byte(`"event":"signed_head"`)) {
			heads++
		}
	}
	// After records 1-3, 4-6 (the head record itself does not count) and on Close for 7.
	if heads != 3 {
		t.Errorf("log holds %d signed head records, want 3", heads)
	}
	r, err := VerifyFiles([]string{path}, VerifyOptions{Keys: keyringOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Heads != 3 || r.SignedSeq != r.HeadSeq-1 {
		t.Errorf("report: ok=%v heads=%d signed_seq=%d head_seq=%d problems=%v", r.OK(), r.Heads, r.SignedSeq, r.HeadSeq, r.Problems)
	}
	other := newTestSigner(t)
	r, err = VerifyFiles([]string{path}, VerifyOptions{Keys: keyringOf(other)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 3 || r.Problems[0].Kind != ProblemSignature {
		t.Errorf("with the wrong key: want 3 signature problems, got %v", r.Problems)
	}
}

func TestSignedHeadsCatchWhatTheChainCannot(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	tests := []struct {
		name     string
		mutate   func(t *testing.T, ls [][]byte) [][]byte
		external bool // also hand VerifyFiles the head of the last record
		want     []Problem
	}{
		{name: "untouched", mutate: func(_ *testing.T, ls [][]byte) [][]byte { return ls }, external: true},
		{
			// Lines: 1-3 records, 4 head, 5-7 records, 8 head, 9 record, 10 head (on Close).
			name:     "newest records cut off, with their heads",
			mutate:   func(_ *testing.T, ls [][]byte) [][]byte { return ls[:7] },
			external: true,
			want:     []Problem{{Line: 7, Seq: 9, Kind: ProblemTruncated}},
		},
		{
			name: "record 2 rewritten and the whole file re-hashed",
			mutate: func(t *testing.T, ls [][]byte) [][]byte {
				ls[1] = replaceIn(ls[1], "alice", "mallory")
				return rechain(t, ls)
			},
			// Every head from the edit on disagrees; the first bounds where the edit is.
			want: []Problem{{Line: 3, Seq: 3, Kind: ProblemHead}, {Line: 7, Seq: 7, Kind: ProblemHead}, {Line: 9, Seq: 9, Kind: ProblemHead}},
		},
		{
			name: "record 9 rewritten and re-hashed, its head dropped",
			mutate: func(t *testing.T, ls [][]byte) [][]byte {
				ls[8] = replaceIn(ls[8], "alice", "mallory")
				return rechain(t, ls[:9])
			},
			external: true,
			want:     []Problem{{Line: 9, Seq: 9, Kind: ProblemHead}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, last := writeSigned(t, t.TempDir(), s, 7)
			writeLines(t, path, tt.mutate(t, readLines(t, path)))
			opts := VerifyOptions{Keys: keyringOf(s)}
			if tt.external {
				opts.Heads = []ExternalHead{{Head: last, From: "the coordinator"}}
			}
			r, err := VerifyFiles([]string{path}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.Problems, cmpopts.IgnoreFields(Problem{}, "Detail"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nfull: %v", diff, r.Problems)
			}
		})
	}
}

func TestForgedExternalHeadIsReported(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	path, last := writeSigned(t, t.TempDir(), s, 4)
	forged := last
	forged.Seq += 10
	r, err := VerifyFiles([]string{path}, VerifyOptions{Keys: keyringOf(s), Heads: []ExternalHead{{Head: forged, From: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.Problems[0].Kind != ProblemSignature {
		t.Fatalf("want one signature problem, got %v", r.Problems)
	}
}

func TestKeyFilesRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv := filepath.Join(dir, "site-a-audit-key.pem")
	id, err := GenerateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(priv); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	s, err := LoadSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadKeyring(PublicKeyPath(priv))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != id || k[id] == nil {
		t.Fatalf("key id %q, signer %q, keyring %v", id, s.KeyID(), k)
	}
	h, err := s.Sign(SignedHead{Component: ComponentSiteAgent, Site: "a", Seq: 3, Hash: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Check(h); err != nil {
		t.Errorf("Check: %v", err)
	}
	h.Site = "b"
	if err := k.Check(h); err == nil {
		t.Error("Check accepted a head whose site was changed after signing")
	}
}

func TestSignedHeadsByTimeAndOnCloseOnly(t *testing.T) {
	t.Parallel()
	count := func(path string) int {
		n := 0
		for _, l := range readLines(t, path) {
			if bytes.Contains(l, []byte(`"event":"signed_head"`)) {
				n++
			}
		}
		return n
	}
	s := newTestSigner(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	opts := testOptions(&logBuffer{})
	// The test clock moves 1ms per reading, so a 4ms interval passes every
	// couple of appends while SignEvery alone would never fire.
	opts.Signer, opts.SignEvery, opts.SignInterval = s, 1000, 4*time.Millisecond
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		if _, _, err := l.Append(context.Background(), sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(path); n < 2 {
		t.Errorf("%d heads written by time after 6 appends, want at least 2", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := VerifyFiles([]string{path}, VerifyOptions{Keys: keyringOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.SignedSeq != r.HeadSeq-1 {
		t.Errorf("after Close the newest record must be signed: signed_seq %d head_seq %d problems %v", r.SignedSeq, r.HeadSeq, r.Problems)
	}
	// Reopening and closing with nothing new writes no extra head.
	before := count(path)
	l, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if after := count(path); after != before {
		t.Errorf("an idle open/close added %d heads", after-before)
	}
}
