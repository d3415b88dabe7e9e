package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRotationKeepsTheChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	s := newTestSigner(t)
	opts := testOptions(&logBuffer{})
	opts.Signer, opts.RotateSize = s, 2000 // a few records per segment
	appendN := func(from, to int) {
		l, err := Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i <= to; i++ {
			if _, _, err := l.Append(context.Background(), sample(i)); err != nil {
				t.Fatalf("Append %d: %v", i, err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendN(1, 20)
	appendN(21, 30) // reopening continues the chain from the newest segment

	segs, err := Segments(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 4 {
		t.Fatalf("want several segments, got %v", segs)
	}
	r, err := VerifyFiles(segs, VerifyOptions{Keys: keyringOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("rotated log does not verify: %v", r.Problems)
	}
	// Each segment ends with a signed head, so one segment cannot be
	// dropped or swapped silently.
	if r.Heads < len(segs)-1 {
		t.Errorf("%d heads for %d segments", r.Heads, len(segs))
	}
	var records int
	for _, p := range segs {
		records += len(readLines(t, p))
	}
	if records != r.Records || r.HeadSeq != uint64(records) {
		t.Errorf("records %d across segments, report %d, head seq %d", records, r.Records, r.HeadSeq)
	}

	// Dropping a middle segment is a deletion located in the next one.
	missing := append(append([]string{}, segs[:1]...), segs[2:]...)
	r, err = VerifyFiles(missing, VerifyOptions{Keys: keyringOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Problems[0].Kind != ProblemDeleted || r.Problems[0].File != segs[2] || r.Problems[0].Line != 1 {
		t.Errorf("without %s: want a deletion at %s:1, got %v", segs[1], segs[2], r.Problems)
	}
	// The active file alone after a rotation still links to the segment before it.
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestRotationByAgeAndRestartAfterRename(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	opts := testOptions(&logBuffer{})
	opts.RotateAge = 5 * time.Millisecond // the test clock moves 1ms per reading
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		if _, _, err := l.Append(context.Background(), sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash right after a rotation's rename leaves no active file: the
	// next Open must continue the chain from the newest segment.
	if err := os.Rename(path, segmentName(path, 99)); err != nil {
		t.Fatal(err)
	}
	l, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(context.Background(), sample(13)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := Segments(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("age-based rotation made %v", segs)
	}
	r, err := VerifyFiles(segs, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.HeadSeq != 13 {
		t.Errorf("chain across %d segments: head seq %d, problems %v", len(segs), r.HeadSeq, r.Problems)
	}
}
