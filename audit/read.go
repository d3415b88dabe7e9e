package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Located is a record read back from a log, with where it was found.
type Located struct {
	Record
	Hash string `json:"hash"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// ReadRecords reads every record of the files, in order, streaming each
// file. Lines that are not records are skipped: reading is for finding
// records, VerifyFiles is for judging the file. Its error is for I/O only.
func ReadRecords(paths []string, keep func(*Located) bool) ([]Located, error) {
	var out []Located
	for _, p := range paths {
		if err := readFile(p, func(l *Located) {
			if keep == nil || keep(l) {
				out = append(out, *l)
			}
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readFile(path string, fn func(*Located)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			rec, stored, ok := splitLine(b[:len(b)-1])
			var l Located
			if ok && json.Unmarshal(rec, &l.Record) == nil && l.Seq > 0 {
				l.Hash, l.File, l.Line = stored, path, n
				fn(&l)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read audit log %s line %d: %w", path, n, err)
		}
	}
}

// Filter selects records; zero fields match everything.
type Filter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Analyst      string
	Site         string // the record's site, or for coordinator records one of its sites
	Decision     string // the record's decision, or for coordinator records one site's status
	QueryID      string
	Event        string
}

// Match reports whether r passes f.
func (f Filter) Match(r *Record) bool {
	switch {
	case !f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until),
		f.Analyst != "" && r.Analyst != f.Analyst,
		f.QueryID != "" && r.QueryID != f.QueryID,
		f.Event != "" && r.Event != f.Event:
		return false
	}
	if f.Site != "" && r.Site != f.Site {
		found := false
		for _, s := range r.Sites {
			found = found || s.Site == f.Site
		}
		if !found {
			return false
		}
	}
	if f.Decision != "" && string(r.Decision) != f.Decision {
		found := false
		for _, s := range r.Sites {
			found = found || string(s.Status) == f.Decision || f.Decision == string(DecisionDeny) && s.Status == StatusDenied
		}
		if !found {
			return false
		}
	}
	return true
}
