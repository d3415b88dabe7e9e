package audit

import (
	"fmt"
	"os"
	"strings"
)

// VerifyOptions adds signed heads to a verification.
type VerifyOptions struct {
	// Keys checks the signature of every head. Nil leaves signatures
	// unchecked, which the report notes.
	Keys Keyring
	// Heads are heads of this log that others hold — the coordinator's
	// record of what a site sent it. They catch truncation and rewrites
	// that the log's own heads cannot, since those go with the log.
	Heads []ExternalHead
}

// ExternalHead is a head of a log kept outside it; From says where, for
// reports ("coordinator.log:12 (query 0193…)").
type ExternalHead struct {
	Head SignedHead
	From string
}

// VerifyFiles checks the chain across files, in the order given — the
// segments of one log, oldest first (see Segments) — and every signed head:
// those written in the log and opts.Heads. Its error is only for I/O
// problems; tampering is reported in the Report.
func VerifyFiles(paths []string, opts VerifyOptions) (*Report, error) {
	es, err := scanFiles(paths)
	if err != nil {
		return nil, err
	}
	return verifyEntries(paths, es, opts), nil
}

func scanFiles(paths []string) ([]entry, error) {
	var all []entry
	for _, p := range paths {
		es, err := scanFile(p)
		if err != nil {
			return nil, err
		}
		if len(paths) > 1 {
			for i := range es {
				es[i].file = p
			}
		}
		all = append(all, es...)
	}
	return all, nil
}

func scanFile(path string) ([]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	es, err := scan(f)
	if err != nil {
		return nil, fmt.Errorf("verify audit log %s: %w", path, err)
	}
	return es, nil
}

func verifyEntries(paths []string, es []entry, opts VerifyOptions) *Report {
	r := &Report{Path: strings.Join(paths, " + "), Records: len(es)}
	if len(paths) > 1 {
		r.Files = paths
	}
	r.Problems, r.HeadSeq, r.HeadHash = analyze(es)
	checkHeads(r, es, opts)
	return r
}

// checkHeads holds the log to every head of it: each must verify (when
// keys are given) and name a record that is there with the hash it states.
func checkHeads(r *Report, es []entry, opts VerifyOptions) {
	bySeq := map[uint64]entry{}
	var last entry
	var lastData uint64 // newest record that is not itself a head
	for _, e := range es {
		if !e.hasSeq || e.torn {
			continue
		}
		if _, dup := bySeq[e.seq]; !dup {
			bySeq[e.seq] = e
		}
		if e.seq >= last.seq {
			last = e
		}
		if e.event != EventSignedHead && e.seq > lastData {
			lastData = e.seq
		}
	}
	add := func(e entry, seq uint64, k ProblemKind, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{File: e.file, Line: e.line, Seq: seq, Kind: k, Detail: fmt.Sprintf(format, args...)})
	}
	check := func(h SignedHead, from string, at entry) {
		r.Heads++
		if opts.Keys != nil {
			if err := opts.Keys.Check(h); err != nil {
				add(at, h.Seq, ProblemSignature, "%s: %v: a forged or altered head", from, err)
				return
			}
		}
		target, ok := bySeq[h.Seq]
		switch {
		case !ok && h.Seq > last.seq:
			add(last, h.Seq, ProblemTruncated, "%s signed seq %d (hash %s), but the log ends at seq %d: %s cut off", from, h.Seq, short(h.Hash), last.seq, cutRange(last.seq+1, h.Seq))
			return
		case !ok:
			add(at, h.Seq, ProblemHead, "%s signed seq %d (hash %s), which is not in the log", from, h.Seq, short(h.Hash))
			return
		case target.stored != h.Hash:
			add(target, h.Seq, ProblemHead, "%s signed seq %d with hash %s, but the line has hash %s: the record was rewritten after it was signed", from, h.Seq, short(h.Hash), short(target.stored))
			return
		}
		if h.Seq > r.SignedSeq {
			r.SignedSeq = h.Seq
		}
	}
	for _, e := range es {
		if e.head != nil && e.event == EventSignedHead && !e.torn {
			check(*e.head, fmt.Sprintf("signed head at %s", where(e)), e)
		}
	}
	for _, xh := range opts.Heads {
		at := last
		if t, ok := bySeq[xh.Head.Seq]; ok {
			at = t
		}
		check(xh.Head, xh.From, at)
	}
	if opts.Keys == nil && r.Heads > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d signed heads found; signatures not checked (no public keys given)", r.Heads))
	}
	if lastData > r.SignedSeq {
		r.Notes = append(r.Notes, fmt.Sprintf("records after seq %d (up to %d) are not covered by a signed head yet", r.SignedSeq, lastData))
	}
}

func cutRange(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("record %d was", from)
	}
	return fmt.Sprintf("records %d-%d were", from, to)
}

func where(e entry) string {
	if e.file != "" {
		return fmt.Sprintf("%s:%d", e.file, e.line)
	}
	return fmt.Sprintf("line %d", e.line)
}
