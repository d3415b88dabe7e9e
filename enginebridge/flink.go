package enginebridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
		logger:  logger.With("component", "enginebridge", "engine", "flink"),
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
	f.logger.InfoContext(ctx, "flink engine ready", "gateway", f.c.base, "session", f.session,
		"tables", len(ddl), "setup", time.Since(start).Round(time.Millisecond))
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
	f.logger.WarnContext(ctx, "flink session lost; opened a new one", "old", stale, "new", session)
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
				f.logger.Warn("flink session heartbeat failed", "session", session, "err", err)
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
	f.logger.DebugContext(ctx, "flink query", slog.String("sql", query))
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

func flinkSchema(cols []flinkColumnInfo) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := flinkArrowType(c.LogicalType)
		if err != nil {
			return nil, fmt.Errorf("column %d %q: %w", i, c.Name, err)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// flinkReader turns an operation's result pages into record batches, one
// batch per non-empty page.
type flinkReader struct {
	refs       atomic.Int64
	f          *Flink
	ctx        context.Context
	session    string
	op         string
	job        string // pipeline.name of the query's Flink job
	next       string // path of the next page; "" after the last
	schema     *arrow.Schema
	pending    *flinkResultPage
	stopCancel func() bool
	cancelOnce sync.Once
	closeOnce  sync.Once

	cur arrow.RecordBatch
	err error
}

var _ array.RecordReader = (*flinkReader)(nil)

func (r *flinkReader) Schema() *arrow.Schema          { return r.schema }
func (r *flinkReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (r *flinkReader) Record() arrow.RecordBatch { return r.cur }
func (r *flinkReader) Err() error                { return r.err }
func (r *flinkReader) Retain()                   { r.refs.Add(1) }

// Release frees the current batch and closes the operation on the gateway.
func (r *flinkReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.releaseCur()
	if r.stopCancel != nil && !r.stopCancel() {
		// cancelOp ran (or runs): it closes the operation itself.
		return
	}
	if r.ctx.Err() != nil {
		// Cancelled, but this Release stopped the AfterFunc before the
		// context package started it: cancel here, without blocking.
		go r.cancelOp()
		return
	}
	r.closeOp()
}

func (r *flinkReader) releaseCur() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// cancelOp runs when ctx is cancelled: it cancels the operation (and so its
// Flink job) and closes it.
func (r *flinkReader) cancelOp() {
	r.cancelOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := r.f.c.do(ctx, http.MethodPost, r.f.c.opPath(r.session, r.op)+"/cancel", struct{}{}, nil); err != nil {
			// Typically "FINISHED to CANCELED": the operation finished
			// once its job was submitted; closing it cancels the job.
			r.f.logger.Debug("flink cancel operation failed; closing it", "operation", r.op, "err", err)
		} else {
			r.f.logger.Debug("flink operation cancelled", "operation", r.op, "took", time.Since(start))
		}
		r.closeOp()
		r.f.stopJobs(r.session, r.job)
	})
}

// stopJobs stops the running Flink jobs named job. Cancelling or closing
// the gateway operation normally cancels its job, but an operation
// interrupted while it submits the job leaves the job running, unowned
// (Flink 1.20); so after a cancellation the session's SHOW JOBS is
// checked a few times as the submission may land late, and STOP JOB
// (without savepoint: a cancel) sent for any survivor.
// Close waits for these checks, cutting their waits short.
func (f *Flink) stopJobs(session, job string) {
	f.sweepMu.Lock()
	if f.closed {
		f.sweepMu.Unlock()
		return
	}
	f.sweeps.Add(1)
	f.sweepMu.Unlock()
	defer f.sweeps.Done()
	for _, wait := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second} {
		last := false
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-f.closing:
			t.Stop()
			last = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := f.stopJobsOnce(ctx, session, job)
		cancel()
		if err != nil {
			f.logger.Warn("flink: stopping the jobs of a cancelled query failed", "job", job, "err", err)
			return
		}
		if last {
			return
		}
	}
}

func (f *Flink) stopJobsOnce(ctx context.Context, session, job string) error {
	r, err := f.query(ctx, session, "SHOW JOBS")
	if err != nil {
		return err
	}
	var ids []string
	for r.Next() {
		rec := r.RecordBatch()
		if rec.NumCols() < 3 {
			break
		}
		idCol, nameCol, stateCol := rec.Column(0), rec.Column(1), rec.Column(2)
		for i := 0; i < int(rec.NumRows()); i++ {
			if nameCol.ValueStr(i) != job {
				continue
			}
			switch stateCol.ValueStr(i) {
			case "FINISHED", "CANCELED", "FAILED", "CANCELLING":
				continue
			}
			if id := idCol.ValueStr(i); flinkJobID.MatchString(id) {
				ids = append(ids, id)
			}
		}
	}
	err = r.Err()
	r.Release()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := f.execIn(ctx, session, "STOP JOB '"+id+"'"); err != nil {
			return fmt.Errorf("stop job %s: %w", id, err)
		}
		f.logger.Info("flink: stopped the job of a cancelled query", "job", job, "job_id", id)
	}
	return nil
}

var flinkJobID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (r *flinkReader) closeOp() {
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.f.c.do(ctx, http.MethodDelete, r.f.c.opPath(r.session, r.op)+"/close", nil, nil); err != nil {
			r.f.logger.Debug("flink close operation failed", "operation", r.op, "err", err)
		}
	})
}

// Next builds the next non-empty page into a batch.
func (r *flinkReader) Next() bool {
	r.releaseCur()
	if r.err != nil {
		return false
	}
	for {
		page := r.pending
		r.pending = nil
		if page == nil {
			if r.next == "" {
				return false
			}
			var err error
			if page, err = r.fetch(); err != nil {
				r.err = wrapCtxErr(r.ctx, fmt.Errorf("flink query: read results: %w", err))
				return false
			}
		}
		if len(page.Results.Data) == 0 {
			continue
		}
		rec, err := r.build(page.Results.Data)
		if err != nil {
			r.err = fmt.Errorf("flink query: %w", err)
			return false
		}
		r.cur = rec
		return true
	}
}

// fetch gets the page at r.next, polling while the gateway answers
// NOT_READY, and advances r.next.
func (r *flinkReader) fetch() (*flinkResultPage, error) {
	wait := 5 * time.Millisecond
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		var page flinkResultPage
		if err := r.f.c.do(r.ctx, http.MethodGet, r.next, nil, &page); err != nil {
			return nil, err
		}
		switch page.ResultType {
		case "NOT_READY":
			// Same token: ask again.
		case "PAYLOAD", "EOS":
			r.next = page.NextResultURI
			if page.ResultType == "EOS" {
				r.next = ""
			}
			return &page, nil
		default:
			return nil, fmt.Errorf("gateway sent result type %q", page.ResultType)
		}
		if page.NextResultURI != "" {
			r.next = page.NextResultURI
		}
		t := time.NewTimer(wait)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return nil, r.ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, r.f.poll)
	}
}

func (r *flinkReader) build(rows []flinkRow) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(r.f.alloc, r.schema)
	defer b.Release()
	n := len(r.schema.Fields())
	apps := make([]appendFunc, n)
	for i := range apps {
		apps[i] = newAppender(b.Field(i), r.schema.Field(i).Type)
	}
	for _, row := range rows {
		if row.Kind != "" && row.Kind != "INSERT" {
			return nil, fmt.Errorf("result row of kind %s: the engine reads insert-only results (batch mode)", row.Kind)
		}
		if len(row.Fields) != n {
			return nil, fmt.Errorf("result row has %d fields, schema %d", len(row.Fields), n)
		}
		for i, v := range row.Fields {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			f := r.schema.Field(i)
			x, err := flinkValue(v, f.Type)
			if err == nil {
				err = apps[i](x)
			}
			if err != nil {
				return nil, fmt.Errorf("column %d %q (%s): %w", i, f.Name, f.Type, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// flinkTableDDL writes one CREATE TEMPORARY TABLE statement per table.
func flinkTableDDL(tables []TableSource, schemas map[string][]FlinkColumn) ([]string, error) {
	var out []string
	for i, t := range tables {
		field := fmt.Sprintf("tables[%d]", i)
		if t.Name == "" {
			return nil, fmt.Errorf("%s.name: must be set", field)
		}
		cols, declared := schemas[t.Name]
		var format string
		switch t.Format {
		case FormatCSV:
			if !declared {
				return nil, fmt.Errorf("%s %q: Flink's csv format reads no header line, so a csv table needs its columns declared (FlinkConfig.Schemas); parquet files carry their own", field, t.Name)
			}
			format = "'format' = 'csv', 'csv.null-literal' = ''"
		case FormatParquet:
			format = "'format' = 'parquet'"
		default:
			return nil, fmt.Errorf("%s.format: %q is not supported by the flink engine (csv, parquet)", field, t.Format)
		}
		abs, err := absFile(t.Path)
		if err != nil {
			return nil, fmt.Errorf("%s.path: %w", field, err)
		}
		if !declared {
			if cols, err = parquetColumns(abs); err != nil {
				return nil, fmt.Errorf("%s %q: %w", field, t.Name, err)
			}
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("%s %q: no columns", field, t.Name)
		}
		var defs []string
		for j, c := range cols {
			if c.Name == "" || !flinkTypeText(c.Type) {
				return nil, fmt.Errorf("%s %q: column %d %q: type %q is not a plain Flink SQL type", field, t.Name, j, c.Name, c.Type)
			}
			defs = append(defs, backquoteIdent(c.Name)+" "+c.Type)
		}
		out = append(out, "CREATE TEMPORARY TABLE "+backquoteIdent(t.Name)+" ("+strings.Join(defs, ", ")+
			") WITH ('connector' = 'filesystem', 'path' = "+quoteString(abs)+", "+format+")")
	}
	return out, nil
}

// flinkTypeText accepts type names such as "DECIMAL(10, 2)", "STRING" or
// "TIMESTAMP(3)": letters, digits, spaces, commas and parentheses only, so
// a declared type cannot smuggle SQL into the DDL.
func flinkTypeText(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(" ,()_", r)
		if !ok {
			return false
		}
	}
	return true
}

func backquoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func absFile(p string) (string, error) {
	if p == "" {
		return "", errors.New("must be set")
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q is not absolute (the gateway resolves paths itself)", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("file %q: %w", p, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%q is a directory", p)
	}
	return p, nil
}

// parquetColumns reads a parquet file's column names and types with an
// in-memory DuckDB.
func parquetColumns(path string) ([]FlinkColumn, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	defer db.Close()
	rows, err := db.Query("DESCRIBE SELECT * FROM read_parquet(" + quoteString(path) + ")")
	if err != nil {
		return nil, fmt.Errorf("read parquet schema of %q: %w", path, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var cols []FlinkColumn
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		ft, err := duckDBToFlinkType(typ)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		cols = append(cols, FlinkColumn{Name: name, Type: ft})
	}
	return cols, rows.Err()
}

// flinkClient is a minimal client of the SQL Gateway REST API.
type flinkClient struct {
	base string
	hc   *http.Client
}

type flinkColumnInfo struct {
	Name        string           `json:"name"`
	LogicalType flinkLogicalType `json:"logicalType"`
}

type flinkRow struct {
	Kind   string `json:"kind"`
	Fields []any  `json:"fields"`
}

type flinkResultPage struct {
	ResultType    string `json:"resultType"`
	IsQueryResult bool   `json:"isQueryResult"`
	JobID         string `json:"jobID"`
	Results       struct {
		Columns []flinkColumnInfo `json:"columns"`
		Data    []flinkRow        `json:"data"`
	} `json:"results"`
	NextResultURI string `json:"nextResultUri"`
}

func (c *flinkClient) openSession(ctx context.Context, props map[string]string) (string, error) {
	var resp struct {
		SessionHandle string `json:"sessionHandle"`
	}
	body := map[string]any{"sessionName": "fedmesh", "properties": props}
	if err := c.do(ctx, http.MethodPost, "/v2/sessions", body, &resp); err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	if resp.SessionHandle == "" {
		return "", errors.New("open session: gateway returned no session handle")
	}
	return resp.SessionHandle, nil
}

func (c *flinkClient) closeSession(ctx context.Context, session string) error {
	if err := c.do(ctx, http.MethodDelete, "/v2/sessions/"+url.PathEscape(session), nil, nil); err != nil {
		return fmt.Errorf("close session: %w", err)
	}
	return nil
}

func (c *flinkClient) submit(ctx context.Context, session, stmt string, execConfig map[string]string) (string, error) {
	var resp struct {
		OperationHandle string `json:"operationHandle"`
	}
	body := map[string]any{"statement": stmt, "executionConfig": execConfig}
	if err := c.do(ctx, http.MethodPost, "/v2/sessions/"+url.PathEscape(session)+"/statements", body, &resp); err != nil {
		return "", fmt.Errorf("submit statement: %w", err)
	}
	if resp.OperationHandle == "" {
		return "", errors.New("submit statement: gateway returned no operation handle")
	}
	return resp.OperationHandle, nil
}

func (c *flinkClient) opPath(session, op string) string {
	return "/v2/sessions/" + url.PathEscape(session) + "/operations/" + url.PathEscape(op)
}

func (c *flinkClient) resultPath(session, op string, token int) string {
	return fmt.Sprintf("%s/result/%d?rowFormat=JSON", c.opPath(session, op), token)
}

// do sends one request; path is absolute on the gateway ("/v2/..."). A
// non-2xx answer becomes a *FlinkGatewayError.
func (c *flinkClient) do(ctx context.Context, method, path string, in, out any) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("gateway sent a result URI %q that is not a path", path)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, redactPath(path), err)
	}
	if resp.StatusCode/100 != 2 {
		return newFlinkGatewayError(method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, redactPath(path), err)
	}
	return nil
}

// redactPath drops the query string from a path for messages.
func redactPath(p string) string {
	path, _, _ := strings.Cut(p, "?")
	return path
}

// FlinkGatewayError is an error answer of the SQL Gateway. Message is the
// root cause of the Java exception the gateway reports (its last "Caused
// by:"), not the whole stack trace.
type FlinkGatewayError struct {
	Method  string
	Path    string
	Status  int
	Message string
}

func (e *FlinkGatewayError) Error() string {
	return fmt.Sprintf("flink sql gateway: %s (HTTP %d from %s %s)", e.Message, e.Status, e.Method, e.Path)
}

func newFlinkGatewayError(method, path string, status int, body []byte) *FlinkGatewayError {
	e := &FlinkGatewayError{Method: method, Path: redactPath(path), Status: status}
	var parsed struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(body, &parsed); err == nil && len(parsed.Errors) > 0 {
		e.Message = flinkRootCause(parsed.Errors)
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300] + "…"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// flinkRootCause picks the innermost exception message out of the
// gateway's error strings (a short summary such as "Internal server
// error." followed by Java stack traces).
func flinkRootCause(errs []string) string {
	var best string
	for _, s := range errs {
		s = strings.TrimPrefix(strings.TrimSpace(s), "<Exception on server side:\n")
		lines := strings.Split(s, "\n")
		for i := 0; i < len(lines); i++ {
			line := strings.TrimSpace(lines[i])
			msg, isCause := strings.CutPrefix(line, "Caused by: ")
			if !isCause && !(i == 0 && strings.Contains(line, "Exception")) {
				continue
			}
			// A message may span lines, up to the first stack frame.
			for j := i + 1; j < len(lines) && j < i+8; j++ {
				next := strings.TrimSpace(lines[j])
				if strings.HasPrefix(next, "at ") || strings.HasPrefix(next, "Caused by: ") || strings.HasPrefix(next, "...") || next == "" {
					break
				}
				msg += " " + next
			}
			best = shortenJavaClass(msg)
		}
	}
	if best == "" {
		for _, s := range errs {
			if s = strings.TrimSpace(s); s != "" {
				best = strings.SplitN(s, "\n", 2)[0]
			}
		}
	}
	if len(best) > 1000 {
		best = best[:1000] + "…"
	}
	return best
}

// shortenJavaClass turns "org.apache.flink.table.api.ValidationException:
// msg" into "ValidationException: msg".
func shortenJavaClass(msg string) string {
	cls, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		cls, rest = msg, ""
	}
	if strings.ContainsAny(cls, " ") {
		return msg
	}
	if i := strings.LastIndexByte(cls, '.'); i >= 0 {
		cls = cls[i+1:]
	}
	if rest == "" {
		return cls
	}
	return cls + ": " + rest
}
