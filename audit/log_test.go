package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppendStoresMarshalledRecordAndChains(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openTest(t, path, &logBuffer{})
	in := sample(1)
	in.Sites = []SiteOutcome{{Site: "b", Status: "denied", Reasons: []string{"purpose"}}}
	in.Seq, in.Prev = 99, "forged" // overwritten by Append
	first, h1, err := l.Append(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	second, h2, err := l.Append(context.Background(), sample(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	if first.V != SchemaVersion || first.Seq != 1 || first.Prev != "" || first.Component != ComponentSiteAgent || first.Site != "site-a" {
		t.Errorf("first record header = v%d seq %d prev %q component %q site %q", first.V, first.Seq, first.Prev, first.Component, first.Site)
	}
	if second.Seq != 2 || second.Prev != h1 {
		t.Errorf("second record seq %d prev %q, want seq 2 prev %q", second.Seq, second.Prev, h1)
	}
	// The line is exactly encoding/json of the returned record plus its hash.
	for i, c := range []struct {
		rec  Record
		hash string
	}{{first, h1}, {second, h2}} {
		line := readLines(t, path)[i]
		b, err := json.Marshal(c.rec)
		if err != nil {
			t.Fatal(err)
		}
		want := append(b[:len(b)-1:len(b)-1], `,"hash":"`+c.hash+"\"}\n"...)
		if diff := cmp.Diff(string(want), string(line)); diff != "" {
			t.Errorf("line %d (-json.Marshal +stored):\n%s", i+1, diff)
		}
	}
	if !bytes.Contains(readLines(t, path)[0], []byte(`"sites":[{"site":"b","status":"denied","reasons":["purpose"]}]`)) {
		t.Errorf("site outcome not stored with snake_case tags: %s", readLines(t, path)[0])
	}
	if r := verify(t, path); !r.OK() || r.Records != 2 || r.HeadSeq != 2 || r.HeadHash != h2 {
		t.Errorf("report = %+v, want intact, 2 records, head 2 %s", r, h2)
	}
}

func TestAppendRejectsBadRecordsWithoutHarm(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, Options{Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		rec  Record
		want string
	}{
		{name: "no event", ctx: context.Background(), rec: Record{Component: ComponentCoordinator}, want: "event must be set"},
		{name: "no component", ctx: context.Background(), rec: Record{Event: EventQuery}, want: "component must be set"},
		{name: "unencodable details", ctx: context.Background(), rec: Record{Event: EventQuery, Component: ComponentCoordinator, Details: map[string]any{"f": func() {}}}, want: "unsupported type"},
		{name: "context already cancelled", ctx: cancelled, rec: Record{Event: EventQuery, Component: ComponentCoordinator}, want: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := l.Append(tt.ctx, tt.rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Append error = %v, want one containing %q", err, tt.want)
			}
			if errors.Is(err, ErrFailed) {
				t.Fatalf("a bad record failed the log: %v", err)
			}
		})
	}
	if seq, _ := l.Head(); seq != 0 {
		t.Fatalf("rejected records moved the head to seq %d", seq)
	}
	if _, _, err := l.Append(context.Background(), Record{Event: EventQuery, Component: ComponentCoordinator}); err != nil {
		t.Fatalf("good Append after rejected ones: %v", err)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeLog(t, dir, 3)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v, want 0600", st.Mode().Perm())
	}
	before := verify(t, path)

	l := openTest(t, path, &logBuffer{})
	if seq, h := l.Head(); seq != 3 || h != before.HeadHash {
		t.Fatalf("Head after reopen = %d %s, want 3 %s", seq, h, before.HeadHash)
	}
	rec, _, err := l.Append(context.Background(), sample(4))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Seq != 4 || rec.Prev != before.HeadHash {
		t.Errorf("first record after reopen: seq %d prev %s, want seq 4 prev %s", rec.Seq, rec.Prev, before.HeadHash)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, path); !r.OK() || r.Records != 4 {
		t.Errorf("after reopen: %+v", r)
	}
}

func TestOpenCutsTornTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tail string
	}{
		{name: "no trailing newline", tail: `{"v":1,"seq":4,"time":"2026-03-01T12:`},
		{name: "zeros after a crash", tail: "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{name: "complete line that is no record", tail: "{\"v\":1,\"se\x00\x00\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeLog(t, t.TempDir(), 3)
			head := verify(t, path).HeadHash
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if verify(t, path).OK() {
				t.Fatal("torn file verified as intact")
			}

			logs := &logBuffer{}
			l := openTest(t, path, logs)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "cut torn final line") {
				t.Errorf("no warning logged for the cut; logs:\n%s", logs)
			}
			r := verify(t, path)
			if !r.OK() || r.Records != 4 {
				t.Fatalf("after recovery: %+v", r)
			}
			var rec Record
			if err := json.Unmarshal(readLines(t, path)[3], &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Event != EventRecovery || rec.Seq != 4 || rec.Prev != head {
				t.Errorf("recovery record = event %q seq %d prev %s, want %q 4 %s", rec.Event, rec.Seq, rec.Prev, EventRecovery, head)
			}
			if got := rec.Details["cut_bytes"]; got != float64(len(tt.tail)) {
				t.Errorf("recovery details cut_bytes = %v, want %d (details %v)", got, len(tt.tail), rec.Details)
			}
		})
	}
}

func TestOpenRefusesUnusableFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "not an audit log", content: "listen: 127.0.0.1:8080", want: "not an audit record"},
		{name: "last complete record unreadable", content: "garbage\n{\"v\":1,\"se", want: "last record (line 1) is unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want one containing %q", err, tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("Open changed a file it refused: %q", got)
			}
		})
	}
}

func TestOpenWarnsAboutEarlierDamageButContinues(t *testing.T) {
	t.Parallel()
	path := writeLog(t, t.TempDir(), 4)
	ls := readLines(t, path)
	ls[1] = replaceIn(ls[1], "alice", "eve")
	writeLines(t, path, ls)

	logs := &logBuffer{}
	l := openTest(t, path, logs)
	if _, _, err := l.Append(context.Background(), sample(5)); err != nil {
		t.Fatalf("Append to a log with earlier damage: %v", err)
	}
	l.Close()
	if !strings.Contains(logs.String(), "fails verification") {
		t.Errorf("no warning about the damaged line; logs:\n%s", logs)
	}
	want := []Problem{{Line: 2, Seq: 2, Kind: ProblemEdited, Detail: "content does not match the hash stored on the line"}}
	if diff := cmp.Diff(want, verify(t, path).Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestSecondWriterIsLockedOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openTest(t, path, &logBuffer{})
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open while the first is open: err = %v, want a lock error", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l2.Close()
}

func TestAppendAfterCloseFails(t *testing.T) {
	t.Parallel()
	l := openTest(t, filepath.Join(t.TempDir(), "audit.log"), &logBuffer{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := l.Append(context.Background(), sample(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: err = %v, want ErrClosed", err)
	}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	t.Parallel()
	const writers, each = 8, 200
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openTest(t, path, &logBuffer{})

	var mu sync.Mutex
	seqs := make(map[uint64]int)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rec, _, err := l.Append(context.Background(), sample(w*each+i))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seqs[rec.Seq]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	headSeq, headHash := l.Head()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= writers*each; s++ {
		if seqs[s] != 1 {
			t.Fatalf("seq %d handed out %d times", s, seqs[s])
		}
	}
	r := verify(t, path)
	if !r.OK() || r.Records != writers*each || r.HeadSeq != headSeq || r.HeadHash != headHash {
		t.Fatalf("report %+v, want intact with %d records and head %d %s", r, writers*each, headSeq, headHash)
	}
	t.Logf("%d appends in %d fsyncs", writers*each, l.syncs.Load())
}
