package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Open opens or creates the audit log at path and continues its chain. The
// file is opened O_APPEND with mode 0600 and locked against a second writer;
// on creation the directory is fsync'd so the file itself survives a crash.
//
// A torn final line (no newline, or not a record) is cut off, with a
// warning, and an EventRecovery record is appended whose Details say how many
// bytes were cut. Problems earlier in the file are logged as warnings only:
// the log stays usable and VerifyFile reports them. Open fails if the last
// remaining record cannot be read, because the chain cannot be continued.
func Open(path string, opts Options) (*Log, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(logkey.AuditPath, path)
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("open audit log %s: %w", path, err)
		}
	}
	tail, err := recoverTail(f, logger)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}

	if tail.seq == 0 && tail.empty {
		// A freshly rotated active file: the chain continues from the
		// newest segment.
		if tail.seq, tail.hash, err = lastSegmentHead(path); err != nil {
			f.Close()
			return nil, fmt.Errorf("open audit log %s: %w", path, err)
		}
	}
	signEvery, signEach := opts.SignEvery, opts.SignInterval
	if signEvery <= 0 {
		signEvery = defaultSignEvery
	}
	if signEach == 0 {
		signEach = time.Minute
	}
	l := &Log{
		signer:     opts.Signer,
		observe:    opts.Observe,
		signEvery:  signEvery,
		signEach:   signEach,
		rotSize:    opts.RotateSize,
		rotAge:     opts.RotateAge,
		size:       tail.size,
		segStart:   now(),
		lastSigned: now(),
		path:       path,
		logger:     logger,
		now:        now,
		component:  opts.Component,
		site:       opts.Site,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		f:          f,
		seq:        tail.seq,
		head:       tail.hash,
	}
	go l.run()

	if c := tail.cut; c != nil {
		rec := Record{Event: EventRecovery, Component: opts.Component, Details: map[string]any{
			"cut_bytes":  c.bytes,
			"cut_offset": c.offset,
			"cut_sha256": c.sum,
			"reason":     c.reason,
		}}
		if rec.Component == "" {
			rec.Component = "audit"
		}
		if _, _, err := l.Append(context.Background(), rec); err != nil {
			l.Close()
			return nil, fmt.Errorf("open audit log %s: record recovery of torn tail: %w", path, err)
		}
	}
	return l, nil
}

// tailState is where Open picks up the chain.
type tailState struct {
	seq   uint64
	hash  string
	cut   *cutInfo
	size  int64 // bytes in the file after any cut
	empty bool  // no records in the file
}

type cutInfo struct {
	offset, bytes int64
	sum           string // sha256 of the bytes cut, as evidence
	reason        string
}

// recoverTail checks the existing file, cuts a torn final line, and returns
// the head to continue from.
func recoverTail(f *os.File, logger *slog.Logger) (tailState, error) {
	st, err := f.Stat()
	if err != nil {
		return tailState{}, fmt.Errorf("stat: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		logger.Warn("audit log is readable or writable by others; expected mode 0600", logkey.Mode, perm.String())
	}
	es, err := scan(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return tailState{}, err
	}

	var cut *cutInfo
	if n := len(es); n > 0 && (es[n-1].torn || es[n-1].kind == lineMalformed) {
		last := es[n-1]
		raw := make([]byte, last.size)
		if _, err := f.ReadAt(raw, last.offset); err != nil {
			return tailState{}, fmt.Errorf("read final line %d: %w", last.line, err)
		}
		// Never cut from a file that shows no sign of being an audit log.
		if n == 1 && raw[0] != '{' && raw[0] != 0 {
			return tailState{}, fmt.Errorf("line 1 is not an audit record; is this the right file?")
		}
		sum := sha256.Sum256(raw)
		cut = &cutInfo{offset: last.offset, bytes: last.size, sum: hex.EncodeToString(sum[:]), reason: "final line has no newline"}
		if !last.torn {
			cut.reason = "final line is not an audit record: " + last.why
		}
		es = es[:n-1]
	}

	tail := tailState{size: st.Size(), empty: len(es) == 0}
	if n := len(es); n > 0 {
		last := es[n-1]
		if !last.hasSeq || last.stored == "" {
			return tailState{}, fmt.Errorf("last record (line %d) is unreadable (%s), so the chain cannot be continued; inspect the file with verify and move it aside", last.line, last.why)
		}
		tail.seq, tail.hash = last.seq, last.stored
	}

	if cut != nil {
		if err := f.Truncate(cut.offset); err != nil {
			return tailState{}, fmt.Errorf("cut torn final line at offset %d: %w", cut.offset, err)
		}
		if err := f.Sync(); err != nil {
			return tailState{}, fmt.Errorf("fsync after cutting torn final line: %w", err)
		}
		logger.Warn("cut torn final line of audit log; appending a recovery record",
			logkey.CutBytes, cut.bytes, logkey.Offset, cut.offset, logkey.Reason, cut.reason)
		tail.cut, tail.size = cut, cut.offset
	}

	if problems, _, _ := analyze(es); len(problems) > 0 {
		logger.Warn("audit log fails verification; continuing its chain anyway, run verify for the full list",
			logkey.Problems, len(problems), logkey.FirstProblem, problems[0].String())
	}
	return tail, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// lastSegmentHead returns the head of the newest rotated segment of path,
// or zero values when there is none.
func lastSegmentHead(path string) (uint64, string, error) {
	nums, err := segmentNumbers(path)
	if err != nil || len(nums) == 0 {
		return 0, "", err
	}
	name := segmentName(path, nums[len(nums)-1])
	f, err := os.Open(name)
	if err != nil {
		return 0, "", fmt.Errorf("read previous segment: %w", err)
	}
	defer f.Close()
	es, err := scan(f)
	if err != nil {
		return 0, "", fmt.Errorf("read previous segment %s: %w", name, err)
	}
	for i := len(es) - 1; i >= 0; i-- {
		if e := es[i]; e.hasSeq && e.stored != "" && !e.torn {
			return e.seq, e.stored, nil
		}
	}
	return 0, "", fmt.Errorf("previous segment %s has no readable record to continue the chain from", name)
}
