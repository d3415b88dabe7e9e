package audit

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// ProblemKind names what is wrong with a line.
type ProblemKind string

// Problem kinds.
const (
	ProblemEdited    ProblemKind = "edited"    // the line's bytes changed (or a neighbour's link says so)
	ProblemDeleted   ProblemKind = "deleted"   // records are missing before this line
	ProblemReordered ProblemKind = "reordered" // a record is out of place (or repeated)
	ProblemMalformed ProblemKind = "malformed" // the line is not an audit record
	ProblemTorn      ProblemKind = "torn"      // the file ends inside this line
	ProblemTruncated ProblemKind = "truncated" // a signed head names a record past the end of the log
	ProblemSignature ProblemKind = "signature" // a signed head does not verify
	ProblemHead      ProblemKind = "head"      // a signed head disagrees with the record it names
	ProblemOrphan    ProblemKind = "orphan"    // a site exported for a query no given coordinator log records (VerifyFederation)
)

// Problem is one finding of VerifyFile, located by 1-based line number and
// the seq the line has (or, when it cannot be read, should have).
type Problem struct {
	File   string      `json:"file,omitempty"` // set when a report covers several files
	Line   int         `json:"line"`
	Seq    uint64      `json:"seq"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d: seq %d: %s: %s", p.Line, p.Seq, p.Kind, p.Detail)
}

// Report is the result of VerifyFile. HeadSeq and HeadHash are those of the
// last record the chain could be followed to.
type Report struct {
	Path     string `json:"path"`
	Records  int    `json:"records"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Files lists the segments when a report covers several files.
	Files []string `json:"files,omitempty"`
	// Heads counts the signed heads checked; SignedSeq is the newest seq a
	// valid head vouches for.
	Heads     int       `json:"heads"`
	SignedSeq uint64    `json:"signed_seq"`
	Problems  []Problem `json:"problems,omitempty"`
	Notes     []string  `json:"notes,omitempty"`
}

// OK reports whether the chain is intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// WriteText writes the report for humans: one summary line, then one line
// per problem as path:line: kind: seq N: detail.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "%s: chain intact, %d records", r.Path, r.Records)
		if r.Records > 0 {
			fmt.Fprintf(&b, ", head seq %d hash %s", r.HeadSeq, short(r.HeadHash))
		}
		if r.Heads > 0 {
			fmt.Fprintf(&b, ", %d signed %s up to seq %d", r.Heads, plural(r.Heads, "head"), r.SignedSeq)
		}
		b.WriteByte('\n')
	} else {
		fmt.Fprintf(&b, "%s: %d %s in %d records\n", r.Path, len(r.Problems), plural(len(r.Problems), "problem"), r.Records)
		for _, p := range r.Problems {
			file := r.Path
			if p.File != "" {
				file = p.File
			}
			fmt.Fprintf(&b, "%s:%d: %s: seq %d: %s\n", file, p.Line, p.Kind, p.Seq, p.Detail)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "%s: note: %s\n", r.Path, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func short(h string) string {
	if len(h) <= 12 {
		return h
	}
	return h[:12] + "…"
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// VerifyFile checks the whole chain in path. Its error is only for I/O
// problems; tampering is reported in the Report.
func VerifyFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	es, err := scan(f)
	if err != nil {
		return nil, fmt.Errorf("verify audit log %s: %w", path, err)
	}
	r := &Report{Path: path, Records: len(es)}
	r.Problems, r.HeadSeq, r.HeadHash = analyze(es)
	return r, nil
}

// anchor is the last line the chain was followed to.
type anchor struct {
	seq   uint64
	line  int
	hash  [2]string // stored and computed hash: a successor may link to either
	known bool      // the successor's prev can be checked
	loose bool      // the anchor was a malformed line: it may have been inserted rather than replaced
}

func (a anchor) links(prev string) bool {
	return prev != "" && (prev == a.hash[0] || prev == a.hash[1]) || prev == "" && a.line == 0
}

// analyze walks the lines in order, re-anchoring after each problem so that
// one damaged spot does not hide — or spuriously cause — the next.
func analyze(es []entry) (problems []Problem, headSeq uint64, headHash string) {
	where := make(map[uint64][]int) // seq → lines holding it
	for _, e := range es {
		if e.hasSeq {
			where[e.seq] = append(where[e.seq], e.line)
		}
	}
	a := anchor{known: true} // the virtual line 0 before the first record
	moved := make(map[uint64]bool)
	seen := make(map[uint64]int)
	add := func(e entry, seq uint64, k ProblemKind, format string, args ...any) {
		problems = append(problems, Problem{File: e.file, Line: e.line, Seq: seq, Kind: k, Detail: fmt.Sprintf(format, args...)})
	}

	for i, e := range es {
		want := a.seq + 1
		s := e.seq
		switch {
		case e.torn:
			if !e.hasSeq {
				s = want
			}
			add(e, s, ProblemTorn, "the file ends inside this line (%d bytes, no newline): an append was cut short", e.size)
			continue
		case e.kind == lineMalformed:
			add(e, want, ProblemMalformed, "%s", e.why)
			a = anchor{seq: want, line: e.line, loose: true}
			continue
		case e.kind == lineEdited:
			// Trust an edited line's seq only if the next line agrees with it:
			// the edit may have hit the seq itself.
			if s != want && nextSeq(es, i) != s+1 {
				s = want
			}
			add(e, s, ProblemEdited, "%s", e.why)
		}

		switch {
		case s == want || a.loose && s == a.seq:
			if e.kind == lineOK && a.known && !a.links(e.prev) {
				add(e, s, ProblemEdited, "prev does not match the hash of line %d (seq %d): one of the two was rewritten and re-hashed", a.line, a.seq)
			}
		case s > want:
			var gone, away []uint64
			for m := want; m < s; m++ {
				if len(where[m]) > 0 {
					away = append(away, m)
				} else {
					gone = append(gone, m)
				}
			}
			if len(gone) > 0 {
				if e.kind == lineOK && a.known && a.links(e.prev) {
					add(e, s, ProblemEdited, "seq jumps from %d to %d but prev links to line %d: the seq was rewritten", a.seq, s, a.line)
				} else {
					add(e, s, ProblemDeleted, "seq %s missing between line %d (seq %d) and line %d", seqRanges(gone), a.line, a.seq, e.line)
				}
			}
			if len(away) > 0 {
				add(e, s, ProblemReordered, "line %d (seq %d) comes before %s", e.line, s, placesOf(away, where))
				for _, m := range away {
					moved[m] = true
				}
			}
		default: // behind the anchor: keep the anchor
			switch first, dup := seen[s]; {
			case moved[s]:
				// already reported when the chain jumped over it
			case dup:
				add(e, s, ProblemReordered, "seq %d repeats line %d", s, first)
			default:
				add(e, s, ProblemReordered, "line %d (seq %d) comes after line %d (seq %d)", e.line, s, a.line, a.seq)
			}
			continue
		}
		seen[s] = e.line
		a = anchor{seq: s, line: e.line, hash: [2]string{e.stored, e.computed}, known: e.stored != ""}
	}
	if a.known {
		headHash = a.hash[0]
	}
	return problems, a.seq, headHash
}

// nextSeq is the seq of the first line after i that has one, or 0.
func nextSeq(es []entry, i int) uint64 {
	for _, e := range es[i+1:] {
		if e.hasSeq && !e.torn {
			return e.seq
		}
	}
	return 0
}

// seqRanges formats sorted seqs compactly: "3", "3-5", "3-5, 9".
func seqRanges(seqs []uint64) string {
	var parts []string
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(seqs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// placesOf lists where out-of-place seqs were found: "seq 3 (line 4), seq 5 (line 2)".
func placesOf(seqs []uint64, where map[uint64][]int) string {
	const limit = 5
	var parts []string
	for _, s := range seqs[:min(len(seqs), limit)] {
		parts = append(parts, fmt.Sprintf("seq %d (line %s)", s, strings.Trim(fmt.Sprint(where[s]), "[]")))
	}
	if len(seqs) > limit {
		parts = append(parts, fmt.Sprintf("and %d more", len(seqs)-limit))
	}
	return strings.Join(parts, ", ")
}
