package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reseal re-hashes a line after its content was changed, as a forger who
// knows the format would.
func reseal(t *testing.T, line []byte) []byte {
	t.Helper()
	rec, _, ok := splitLine(bytes.TrimSuffix(line, []byte("\n")))
	if !ok {
		t.Fatalf("reseal: no hash suffix on %q", line)
	}
	sum := sha256.Sum256(rec)
	out := append(slices.Clone(rec[:len(rec)-1]), hashKey...)
	out = append(out, hex.EncodeToString(sum[:])...)
	return append(out, "\"}\n"...)
}

func replaceIn(line []byte, old, new string) []byte {
	return bytes.Replace(line, []byte(old), []byte(new), 1)
}

func TestVerifyFileDetectsTampering(t *testing.T) {
	t.Parallel()
	// Each mutation gets lines 1..6 (index 0..5) of an intact log.
	tests := []struct {
		name       string
		mutate     func(t *testing.T, ls [][]byte) [][]byte
		want       []Problem // Detail is checked by wantDetail only
		wantDetail string
	}{
		{name: "untouched", mutate: func(_ *testing.T, ls [][]byte) [][]byte { return ls }},
		{
			name:   "one byte edited in record 3",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte { ls[2] = replaceIn(ls[2], "alice", "alicf"); return ls },
			want:   []Problem{{Line: 3, Seq: 3, Kind: ProblemEdited}},
		},
		{
			name:   "seq of record 3 edited",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte { ls[2] = replaceIn(ls[2], `"seq":3`, `"seq":9`); return ls },
			want:   []Problem{{Line: 3, Seq: 3, Kind: ProblemEdited}},
		},
		{
			name:   "unknown field added at start of record 2",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte { ls[1] = replaceIn(ls[1], `{`, `{"x":1,`); return ls },
			want:   []Problem{{Line: 2, Seq: 2, Kind: ProblemEdited}},
		},
		{
			name: "unknown field added before the hash of record 2",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				ls[1] = replaceIn(ls[1], `,"hash":`, `,"x":1,"hash":`)
				return ls
			},
			want: []Problem{{Line: 2, Seq: 2, Kind: ProblemEdited}},
		},
		{
			name: "unknown field added after the hash of record 2",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				ls[1] = replaceIn(ls[1], "\"}\n", "\",\"x\":1}\n")
				return ls
			},
			want: []Problem{{Line: 2, Seq: 2, Kind: ProblemEdited}},
		},
		{
			name:   "whitespace added to record 4",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte { ls[3] = replaceIn(ls[3], `{`, `{ `); return ls },
			want:   []Problem{{Line: 4, Seq: 4, Kind: ProblemEdited}},
		},
		{
			name:   "CRLF line ending on record 2",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte { ls[1] = replaceIn(ls[1], "\n", "\r\n"); return ls },
			want:   []Problem{{Line: 2, Seq: 2, Kind: ProblemEdited}},
		},
		{
			name:       "record 3 deleted",
			mutate:     func(_ *testing.T, ls [][]byte) [][]byte { return slices.Delete(ls, 2, 3) },
			want:       []Problem{{Line: 3, Seq: 4, Kind: ProblemDeleted}},
			wantDetail: "seq 3 missing between line 2 (seq 2) and line 3",
		},
		{
			name:       "first record deleted",
			mutate:     func(_ *testing.T, ls [][]byte) [][]byte { return ls[1:] },
			want:       []Problem{{Line: 1, Seq: 2, Kind: ProblemDeleted}},
			wantDetail: "seq 1 missing",
		},
		{
			name:       "records 2 to 4 deleted",
			mutate:     func(_ *testing.T, ls [][]byte) [][]byte { return slices.Delete(ls, 1, 4) },
			want:       []Problem{{Line: 2, Seq: 5, Kind: ProblemDeleted}},
			wantDetail: "seq 2-4 missing",
		},
		{
			name:       "records 2 and 3 swapped",
			mutate:     func(_ *testing.T, ls [][]byte) [][]byte { ls[1], ls[2] = ls[2], ls[1]; return ls },
			want:       []Problem{{Line: 2, Seq: 3, Kind: ProblemReordered}},
			wantDetail: "line 2 (seq 3) comes before seq 2 (line 3)",
		},
		{
			name: "record 2 moved to the end",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				return append(slices.Delete(slices.Clone(ls), 1, 2), ls[1])
			},
			want:       []Problem{{Line: 2, Seq: 3, Kind: ProblemReordered}},
			wantDetail: "seq 2 (line 6)",
		},
		{
			name:       "record 2 repeated at the end",
			mutate:     func(_ *testing.T, ls [][]byte) [][]byte { return append(ls, ls[1]) },
			want:       []Problem{{Line: 7, Seq: 2, Kind: ProblemReordered}},
			wantDetail: "seq 2 repeats line 2",
		},
		{
			name: "garbage line inserted after record 3",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				return slices.Insert(ls, 3, []byte("not a record\n"))
			},
			want: []Problem{{Line: 4, Seq: 4, Kind: ProblemMalformed}},
		},
		{
			name: "record 3 rewritten and re-hashed",
			mutate: func(t *testing.T, ls [][]byte) [][]byte {
				ls[2] = reseal(t, replaceIn(ls[2], `"decision":"allow"`, `"decision":"deny"`))
				return ls
			},
			want:       []Problem{{Line: 4, Seq: 4, Kind: ProblemEdited}},
			wantDetail: "prev does not match the hash of line 3 (seq 3)",
		},
		{
			name: "final line torn",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				ls[5] = ls[5][:len(ls[5])-20]
				return ls
			},
			want: []Problem{{Line: 6, Seq: 6, Kind: ProblemTorn}},
		},
		{
			name: "edit and deletion both reported",
			mutate: func(_ *testing.T, ls [][]byte) [][]byte {
				ls[1] = replaceIn(ls[1], "flu", "flux")
				return slices.Delete(ls, 4, 5)
			},
			want: []Problem{
				{Line: 2, Seq: 2, Kind: ProblemEdited},
				{Line: 5, Seq: 6, Kind: ProblemDeleted},
			},
		},
	}
	dir := t.TempDir()
	lines := readLines(t, writeLog(t, dir, 6))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ls := make([][]byte, len(lines))
			for i := range lines {
				ls[i] = slices.Clone(lines[i])
			}
			path := filepath.Join(t.TempDir(), "audit.log")
			writeLines(t, path, tt.mutate(t, ls))

			r := verify(t, path)
			if diff := cmp.Diff(tt.want, r.Problems, cmpopts.IgnoreFields(Problem{}, "Detail"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			if tt.wantDetail != "" && (len(r.Problems) == 0 || !strings.Contains(r.Problems[0].Detail, tt.wantDetail)) {
				t.Errorf("detail = %q, want it to contain %q", r.Problems, tt.wantDetail)
			}
			if r.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v with problems %v", r.OK(), r.Problems)
			}
		})
	}
}

// Whatever single byte of a record changes, verification fails and blames
// that line alone.
func TestVerifyFileAnyByteChangeBlamesThatLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := readLines(t, writeLog(t, dir, 5))
	path := filepath.Join(dir, "tampered.log")
	const k = 3
	for i := 0; i < len(lines[k-1])-1; i++ { // every byte but the newline
		ls := slices.Clone(lines)
		ls[k-1] = slices.Clone(lines[k-1])
		ls[k-1][i] = map[bool]byte{true: 'y', false: 'x'}[ls[k-1][i] == 'x']
		writeLines(t, path, ls)

		r := verify(t, path)
		if r.OK() {
			t.Fatalf("byte %d of line %d changed (%q): chain reported intact", i, k, ls[k-1])
		}
		for _, p := range r.Problems {
			if p.Line != k || p.Seq != k || (p.Kind != ProblemEdited && p.Kind != ProblemMalformed) {
				t.Fatalf("byte %d of line %d changed: got problem %v, want only edited/malformed at line %d seq %d", i, k, p, k, k)
			}
		}
	}
}

func TestVerifyFileEachDeletionNamesMissingSeq(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := readLines(t, writeLog(t, dir, 5))
	for del := 1; del < len(lines); del++ { // the last line's deletion needs a signed head
		path := filepath.Join(dir, "deleted.log")
		writeLines(t, path, slices.Delete(slices.Clone(lines), del-1, del))
		got := verify(t, path).Problems
		want := []Problem{{Line: del, Seq: uint64(del + 1), Kind: ProblemDeleted}}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Problem{}, "Detail")); diff != "" {
			t.Errorf("line %d deleted (-want +got):\n%s", del, diff)
		}
	}
}

func TestReportWriteText(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeLog(t, dir, 3)

	r := verify(t, path)
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := path + ": chain intact, 3 records, head seq 3 hash " + r.HeadHash[:12] + "…\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("intact report (-want +got):\n%s", diff)
	}

	ls := readLines(t, path)
	ls[1] = replaceIn(ls[1], "alice", "mallory")
	writeLines(t, path, ls)
	b.Reset()
	if err := verify(t, path).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		path + ": 1 problem in 3 records\n",
		path + ":2: edited: seq 2: content does not match",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report %q does not contain %q", b.String(), want)
		}
	}
}

func TestVerifyFileMissingFileIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := VerifyFile(filepath.Join(t.TempDir(), "nope.log")); err == nil {
		t.Fatal("VerifyFile of a missing file: got nil error")
	}
}
