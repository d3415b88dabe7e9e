package audit

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// lineKind is what a single line looks like on its own, before the chain is
// checked.
type lineKind uint8

const (
	lineOK        lineKind = iota // hash suffix present and matching
	lineEdited                    // has a seq, but its bytes do not match its hash
	lineMalformed                 // not a record at all
)

// entry is what the scanner keeps of one line: enough to check the chain
// without holding the file in memory.
type entry struct {
	line     int   // 1-based line number
	offset   int64 // byte offset of the line's first byte
	size     int64 // bytes, including the newline if any
	torn     bool  // the file ends inside this line (no newline)
	kind     lineKind
	hasSeq   bool
	seq      uint64
	prev     string
	stored   string // hash written on the line; "" if the suffix is unreadable
	computed string // sha256 of the line's record bytes; "" if the suffix is unreadable
	why      string // what is wrong, for edited and malformed lines

	file      string // set by VerifyFiles when several files are read
	event     string
	component string
	site      string
	queryID   string
	head      *SignedHead   // EventSignedHead records
	siteHeads []SiteOutcome // coordinator records: per-site outcomes carrying heads
}

// header is the part of a record the chain check needs.
type header struct {
	Seq       *uint64       `json:"seq"`
	Prev      *string       `json:"prev"`
	Event     string        `json:"event"`
	Component string        `json:"component"`
	Site      string        `json:"site"`
	QueryID   string        `json:"query_id"`
	Head      *SignedHead   `json:"head"`
	Sites     []SiteOutcome `json:"sites"`
}

func (e *entry) setHeader(h header) {
	e.event, e.component, e.site, e.head, e.queryID = h.Event, h.Component, h.Site, h.Head, h.QueryID
	for _, so := range h.Sites {
		if so.Head != nil {
			e.siteHeads = append(e.siteHeads, SiteOutcome{Site: so.Site, Head: so.Head})
		}
	}
}

// parseLine classifies one line (without its newline).
func parseLine(b []byte) entry {
	var e entry
	var h header
	rec, stored, ok := splitLine(b)
	if !ok {
		if json.Unmarshal(b, &h) == nil && h.Seq != nil {
			e.kind, e.hasSeq, e.seq = lineEdited, true, *h.Seq
			e.prev = deref(h.Prev)
			e.why = `the "hash" suffix is missing or altered`
			return e
		}
		e.kind, e.why = lineMalformed, "not an audit record (no hash suffix, not JSON with a seq)"
		return e
	}
	sum := sha256.Sum256(rec)
	e.stored, e.computed = stored, hex.EncodeToString(sum[:])
	if json.Unmarshal(rec, &h) == nil && h.Seq != nil {
		e.hasSeq, e.seq, e.prev = true, *h.Seq, deref(h.Prev)
		e.setHeader(h)
	}
	switch {
	case e.computed != e.stored:
		e.kind, e.why = lineEdited, "content does not match the hash stored on the line"
	case !e.hasSeq:
		e.kind, e.why = lineMalformed, "hash matches but the record has no seq"
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// scan reads every line of r. Its error is only ever an I/O error.
func scan(r io.Reader) ([]entry, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		es  []entry
		off int64
	)
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			var e entry
			if b[len(b)-1] == '\n' {
				e = parseLine(b[:len(b)-1])
			} else {
				e = parseLine(b)
				e.torn = true
			}
			e.line, e.offset, e.size = n, off, int64(len(b))
			off += int64(len(b))
			es = append(es, e)
		}
		if errors.Is(err, io.EOF) {
			return es, nil
		}
		if err != nil {
			return es, fmt.Errorf("read line %d: %w", n, err)
		}
	}
}
