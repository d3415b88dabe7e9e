package enginebridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// FlinkConfig configures the Flink adapter, a client of Flink's SQL Gateway
// REST API (v2, Flink 1.17+).
type FlinkConfig struct {
	// URL is the gateway's REST endpoint, e.g. http://127.0.0.1:8083.
	URL string
	// Tables become TEMPORARY TABLEs (filesystem connector) of the
	// engine's session, each under its Name. Formats: csv, parquet.
	Tables []TableSource
	// Schemas declares the columns of tables by Name, in file order. A csv
	// table needs one (Flink reads csv without a header line); a parquet
	// table without one gets its columns from the file (read by DuckDB).
	Schemas map[string][]FlinkColumn
	// Properties are extra session properties, e.g. "parallelism.default".
	// The adapter always sets execution.runtime-mode=batch and
	// table.local-time-zone=UTC.
	Properties map[string]string
	// JobName prefixes the names of the Flink jobs of this engine's
	// queries (pipeline.name = JobName-<random>; default "fedmesh").
	JobName string
	// HTTPClient defaults to a client with a 30s per-request timeout.
	HTTPClient *http.Client
	// PollInterval caps the wait between polls of a result not yet ready
	// (default 100ms; polls start at 5ms and back off).
	PollInterval time.Duration
	Allocator    memory.Allocator
}

// FlinkColumn is one declared column: its name and Flink SQL type
// ("BIGINT", "DECIMAL(10, 2)", "STRING", "DATE", ...).
type FlinkColumn struct {
	Name string
	Type string
}

// Flink is an Engine over one Flink SQL Gateway session. Queries are
// statements of that session; each runs as a Flink batch job and its
// result pages become Arrow record batches.
type Flink struct {
	c       *flinkClient
	props   map[string]string
	ddl     []string
	names   []string // table names, for messages
	jobName string
	alloc   memory.Allocator
	poll    time.Duration
	logger  *slog.Logger

	mu      sync.Mutex
	session string // current session handle; replaced when the gateway lost it

	closing chan struct{}  // closed by Close: job sweeps finish at once
	sweepMu sync.Mutex     // orders sweeps.Add before Close's Wait
	closed  bool           // under sweepMu
	sweeps  sync.WaitGroup // running stopJobs

	stopBeat  context.CancelFunc
	beatDone  chan struct{}
	closeOnce sync.Once
}

var _ Engine = (*Flink)(nil)

// OpenFlink opens a gateway session in batch mode and declares the tables
// in it.
func OpenFlink(ctx context.Context, cfg FlinkConfig, logger *slog.Logger) (*Flink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("open flink engine: url: %q is not an http(s) URL of the SQL gateway", cfg.URL)
	}
	ddl, err := flinkTableDDL(cfg.Tables, cfg.Schemas)
	if err != nil {
		return nil, fmt.Errorf("open flink engine: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	f := &Flink{
		c:       &flinkClient{base: strings.TrimRight(cfg.URL, "/"), hc: hc},
		jobName: cfg.JobName,
		alloc:   cfg.Allocator,
		poll:    cfg.PollInterval,
		logger:  logger.With(logkey.Component, "enginebridge", logkey.Engine, "flink"),
		closing: make(chan struct{}),
	}
	if f.jobName == "" {
		f.jobName = "fedmesh"
	}
	if f.alloc == nil {
		f.alloc = memory.DefaultAllocator
	}
	if f.poll <= 0 {
		f.poll = 100 * time.Millisecond
	}
	f.props = map[string]string{}
	for k, v := range cfg.Properties {
		f.props[k] = v
	}
	f.props["execution.runtime-mode"] = "batch"
	f.props["table.local-time-zone"] = "UTC"
	f.ddl = ddl
	for _, t := range cfg.Tables {
		f.names = append(f.names, t.Name)
	}
	start := time.Now()
	if f.session, err = f.newSession(ctx); err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("open flink engine: %w", err))
	}
	beatCtx, stop := context.WithCancel(context.Background())
	f.stopBeat, f.beatDone = stop, make(chan struct{})
	go f.heartbeat(beatCtx)
	f.logger.InfoContext(ctx, "flink engine ready", logkey.Gateway, f.c.base, logkey.Session, f.session,
		logkey.Tables, len(ddl), logkey.Setup, time.Since(start).Round(time.Millisecond))
	return f, nil
}

// newSession opens a gateway session and declares the tables in it.
func (f *Flink) newSession(ctx context.Context) (string, error) {
	session, err := f.c.openSession(ctx, f.props)
	if err != nil {
		return "", fmt.Errorf("gateway %s: %w", f.c.base, err)
	}
	for i, stmt := range f.ddl {
		if err := f.execIn(ctx, session, stmt); err != nil {
			_ = f.c.closeSession(context.Background(), session)
			return "", fmt.Errorf("tables[%d] %q: %w", i, f.names[i], err)
		}
	}
	return session, nil
}

func (f *Flink) currentSession() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.session
}

// reopen replaces session stale, which the gateway no longer knows (it
// restarted, or the session expired), with a new one — unless another
// query already did.
func (f *Flink) reopen(ctx context.Context, stale string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.session != stale {
		return f.session, nil
	}
	session, err := f.newSession(ctx)
	if err != nil {
		return "", fmt.Errorf("reopen flink session: %w", err)
	}
	f.logger.WarnContext(ctx, "flink session lost; opened a new one", logkey.Old, stale, logkey.New, session)
	f.session = session
	return session, nil
}

// sessionGone reports whether err says the gateway does not know session.
func sessionGone(err error, session string) bool {
	var ge *FlinkGatewayError
	return errors.As(err, &ge) && strings.Contains(ge.Message, "Session '"+session+"' does not exist")
}

// Dialect returns "flink".
func (f *Flink) Dialect() string { return "flink" }

// heartbeat keeps the session from expiring (the gateway's default idle
// timeout is 10 minutes).
func (f *Flink) heartbeat(ctx context.Context) {
	defer close(f.beatDone)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			session := f.currentSession()
			if err := f.c.do(ctx, http.MethodPost, "/v2/sessions/"+url.PathEscape(session)+"/heartbeat", struct{}{}, nil); err != nil && ctx.Err() == nil {
				// A lost session is replaced by the next query.
				f.logger.Warn("flink session heartbeat failed", logkey.Session, session, logkey.Err, err)
			}
		}
	}
}

// Close closes the gateway session (and with it its operations).
func (f *Flink) Close() error {
	var err error
	f.closeOnce.Do(func() {
		f.sweepMu.Lock()
		f.closed = true
		close(f.closing)
		f.sweepMu.Unlock()
		f.sweeps.Wait()
		f.stopBeat()
		<-f.beatDone
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if cerr := f.c.closeSession(ctx, f.currentSession()); cerr != nil {
			err = fmt.Errorf("close flink engine: %w", cerr)
		}
	})
	return err
}

// exec runs a statement that returns no rows worth keeping (DDL) in the
// current session and waits for it to finish.
func (f *Flink) exec(ctx context.Context, stmt string) error {
	return f.execIn(ctx, f.currentSession(), stmt)
}

func (f *Flink) execIn(ctx context.Context, session, stmt string) error {
	r, err := f.query(ctx, session, stmt)
	if err != nil {
		return err
	}
	defer r.Release()
	for r.Next() {
	}
	return r.Err()
}

// Query submits sql as a statement of the session. args must be empty: the
// flink dialect writes literals inline. Query returns once the first result
// page (which carries the schema) is in; later pages are fetched as the
// reader is iterated. Cancelling ctx cancels and closes the operation on
// the gateway, which cancels its Flink job.
func (f *Flink) Query(ctx context.Context, query string, args []any) (array.RecordReader, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("flink query: %d bound parameter(s) given, but the flink engine takes none (the flink dialect writes literals inline)", len(args))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flink query: %w", err)
	}
	f.logger.DebugContext(ctx, "flink query", slog.String(logkey.SQL, query))
	session := f.currentSession()
	r, err := f.query(ctx, session, query)
	if err != nil && sessionGone(err, session) {
		if session, err = f.reopen(ctx, session); err != nil {
			return nil, wrapCtxErr(ctx, fmt.Errorf("flink query: %w", err))
		}
		r, err = f.query(ctx, session, query)
	}
	if err != nil {
		return nil, wrapCtxErr(ctx, fmt.Errorf("flink query: %w", err))
	}
	return r, nil
}

// query submits one statement in session and reads its first page.
func (f *Flink) query(ctx context.Context, session, query string) (*flinkReader, error) {
	// A job name of its own lets a cancellation find the query's job.
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	job := f.jobName + "-" + hex.EncodeToString(tag[:])
	// The submission itself is not cancelled with ctx: a request
	// abandoned mid-way may still create the operation (and its job) on
	// the gateway, with no handle here to cancel it. It is quick; the
	// AfterFunc below cancels the operation at once if ctx is done.
	subCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	op, err := f.c.submit(subCtx, session, query, map[string]string{"pipeline.name": job})
	cancel()
	if err != nil {
		return nil, err
	}
	r := &flinkReader{f: f, ctx: ctx, session: session, op: op, job: job, next: f.c.resultPath(session, op, 0)}
	r.refs.Store(1)
	r.stopCancel = context.AfterFunc(ctx, r.cancelOp)
	page, err := r.fetch()
	if err != nil {
		r.Release()
		return nil, err
	}
	if r.schema, err = flinkSchema(page.Results.Columns); err != nil {
		r.Release()
		return nil, err
	}
	r.pending = page
	return r, nil
}
