package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Errors returned by Append.
var (
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit log closed")
	// ErrFailed is wrapped by every Append error once a write or fsync has
	// failed: the log fails closed and stays failed until it is reopened.
	ErrFailed = errors.New("audit log failed closed")
)

// Options configures Open.
type Options struct {
	Logger *slog.Logger     // nil discards logs
	Now    func() time.Time // nil means time.Now; must be safe for concurrent use
	// Component and Site are stamped on records whose own fields are empty,
	// including the EventRecovery record Open writes. Component defaults to
	// "audit" for that record only.
	Component string
	Site      string

	// Signer, if set, signs heads: an EventSignedHead record is written
	// after every SignEvery records (default 1000), when SignInterval
	// (default 1m) has passed with records unsigned, before a rotation and
	// on Close; Sign hands out heads for callers to pass on.
	Signer       *Signer
	SignEvery    int
	SignInterval time.Duration
	// RotateSize and RotateAge, if set, start a new segment once the active
	// file holds that many bytes or is that old (counted from when this Log
	// opened or created it). The old file is renamed to path.NNNNNN; the
	// chain continues in the new file (see Segments).
	RotateSize int64
	RotateAge  time.Duration

	// Observe, if set, receives timings for metrics: each Append's wait
	// until its record is durable (or failed), and each write+fsync of a
	// batch. It is called from Append's caller and from the writer
	// goroutine, so it must be quick and safe for concurrent use.
	Observe Observer
}

// Observer receives the log's timings (Options.Observe).
type Observer interface {
	ObserveAppend(d time.Duration, err error)
	ObserveSync(d time.Duration)
}

// file is what the writer needs of the log file; tests swap in a fake to
// inject write and fsync failures.
type file interface {
	io.Writer
	Sync() error
	Close() error
}

// Log is an open audit log. It is safe for concurrent use.
type Log struct {
	path      string
	logger    *slog.Logger
	now       func() time.Time
	component string
	site      string

	wake chan struct{} // buffered 1: "pending is not empty or closed changed"
	done chan struct{} // closed when the writer goroutine exits

	mu      sync.Mutex
	f       file
	pending []*request
	closed  bool
	failed  error  // sticky; wraps ErrFailed
	seq     uint64 // durable head; written only by the writer goroutine (and Open)
	head    string

	// Signing and rotation; the writer goroutine owns these (lastHead is
	// read under mu).
	signer     *Signer
	signEvery  int
	signEach   time.Duration
	unsigned   int
	lastSigned time.Time
	lastHead   *SignedHead
	rotSize    int64
	rotAge     time.Duration
	size       int64
	segStart   time.Time

	observe   Observer      // nil: none
	buf       []byte        // writer's scratch buffer
	syncs     atomic.Uint64 // fsyncs done, reported by BenchmarkAppend
	closeOnce sync.Once
	closeErr  error
}

type request struct {
	rec  Record
	body []byte
	done chan result // buffered 1 so the writer never blocks on a caller that left
}

type result struct {
	rec  Record
	hash string
	err  error
}

// Append fills V, Seq, Time and Prev, writes the record, fsyncs, and returns
// the stored record and its hash once it is durable. Empty Component and Site
// take the Options' values. Errors: a validation or encoding error (the log
// is unaffected); ErrClosed; an error wrapping ErrFailed if this or an
// earlier write or fsync failed; or ctx's error if ctx ended first — the
// record may then still be written, but was not known durable in time.
func (l *Log) Append(ctx context.Context, r Record) (Record, string, error) {
	if r.Component == "" {
		r.Component = l.component
	}
	if r.Site == "" {
		r.Site = l.site
	}
	switch {
	case r.Event == "":
		return Record{}, "", errors.New("append audit record: event must be set")
	case r.Component == "":
		return Record{}, "", fmt.Errorf("append audit record (event %q): component must be set (in the record or Options.Component)", r.Event)
	}
	if err := ctx.Err(); err != nil {
		return Record{}, "", fmt.Errorf("append audit record (event %q): %w", r.Event, err)
	}
	body, err := encodeBody(r)
	if err != nil {
		return Record{}, "", fmt.Errorf("append audit record: %w", err)
	}
	req := &request{rec: r, body: body, done: make(chan result, 1)}
	start := time.Now()

	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return Record{}, "", fmt.Errorf("append audit record (event %q) to %s: %w", r.Event, l.path, ErrClosed)
	case l.failed != nil:
		err := l.failed
		l.mu.Unlock()
		return Record{}, "", fmt.Errorf("append audit record (event %q): %w", r.Event, err)
	}
	l.pending = append(l.pending, req)
	l.mu.Unlock()
	l.signal()

	select {
	case res := <-req.done:
		if l.observe != nil {
			l.observe.ObserveAppend(time.Since(start), res.err)
		}
		return res.rec, res.hash, res.err
	case <-ctx.Done():
		return Record{}, "", fmt.Errorf("append audit record (event %q): waiting for fsync of %s: %w", r.Event, l.path, ctx.Err())
	}
}

// Head returns the seq and hash of the newest durable record (0 and "" for
// an empty log). Publishing it elsewhere lets truncation be detected later.
func (l *Log) Head() (seq uint64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.head
}

// Close writes and fsyncs every append already queued, then closes the file.
// Later Appends return ErrClosed. Close is idempotent.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.signal()
		<-l.done
		l.mu.Lock()
		f := l.f
		l.mu.Unlock()
		if err := f.Close(); err != nil {
			l.closeErr = fmt.Errorf("close audit log %s: %w", l.path, err)
		}
	})
	return l.closeErr
}

func (l *Log) signal() {
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already due; the writer drains everything pending
	}
}

// run is the single writer: it takes everything queued, commits it with one
// write and one fsync, and repeats until Close has been called and the queue
// is empty.
func (l *Log) run() {
	defer close(l.done)
	var spare []*request
	var tick <-chan time.Time
	if l.signer != nil && l.signEach > 0 {
		t := time.NewTicker(l.signEach)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-l.wake:
		case <-tick:
			l.mu.Lock()
			f := l.f
			l.mu.Unlock()
			l.commit(f, nil, false)
			continue
		}
		for {
			l.mu.Lock()
			batch := l.pending
			l.pending = spare[:0]
			f, closed := l.f, l.closed
			l.mu.Unlock()
			if len(batch) == 0 {
				spare = batch
				if closed {
					l.commit(f, nil, true) // a final signed head
					return
				}
				break
			}
			l.commit(f, batch, false)
			clear(batch) // let records be collected
			spare = batch
		}
	}
}

// commit assigns seqs to batch in order, writes all lines at once, fsyncs,
// and only then advances the head and answers the waiters.
//
// With a Signer, a signed head record may follow the batch in the same
// write (always when force is set and records are unsigned); the file may
// be rotated after the fsync.
func (l *Log) commit(f file, batch []*request, force bool) {
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	if failed != nil {
		for _, req := range batch {
			req.done <- result{err: fmt.Errorf("append audit record (event %q): %w", req.rec.Event, failed)}
		}
		return
	}

	buf := l.buf[:0]
	seq, head := l.seq, l.head
	results := make([]result, len(batch))
	for i, req := range batch {
		t := l.now().UTC() // UTC also drops the monotonic reading, which JSON would lose
		var h string
		var err error
		buf, h, err = appendLine(buf, seq+1, t, head, req.body)
		if err != nil {
			results[i].err = fmt.Errorf("append audit record (event %q): %w", req.rec.Event, err)
			continue
		}
		rec := req.rec
		rec.V, rec.Seq, rec.Time, rec.Prev = SchemaVersion, seq+1, t, head
		results[i] = result{rec: rec, hash: h}
		seq, head = seq+1, h
	}
	rotate := l.rotateDue(int64(len(buf)))
	buf, seq, head, signed := l.maybeHead(buf, seq, head, force || rotate)

	if len(buf) > 0 {
		if err := l.persist(f, buf); err != nil {
			failed := fmt.Errorf("%w: %w", ErrFailed, err)
			l.mu.Lock()
			l.failed = failed
			l.mu.Unlock()
			l.logger.Error("audit log write failed; refusing all further appends",
				logkey.Err, err, logkey.Seq, l.seq+1)
			for i, req := range batch {
				if results[i].err == nil {
					results[i] = result{err: fmt.Errorf("append audit record (event %q): %w", req.rec.Event, failed)}
				}
			}
		} else {
			l.mu.Lock()
			l.seq, l.head = seq, head
			if signed != nil {
				l.lastHead = signed
			}
			l.mu.Unlock()
			l.size += int64(len(buf))
			if rotate {
				l.rotate()
			}
		}
	}
	if cap(buf) <= 1<<20 { // keep a modest buffer, not the largest batch ever seen
		l.buf = buf
	}
	for i, req := range batch {
		req.done <- results[i]
	}
}

func (l *Log) persist(f file, buf []byte) error {
	n, err := f.Write(buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("write %d bytes to %s: %w", len(buf), l.path, err)
	}
	start := time.Now()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", l.path, err)
	}
	if l.observe != nil {
		l.observe.ObserveSync(time.Since(start))
	}
	l.syncs.Add(1)
	return nil
}
