package enginebridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/spark-connect-go/v40/spark/client/channel"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// SparkConfig configures the Spark adapter.
type SparkConfig struct {
	// URL is the Spark Connect endpoint, sc://host:port, optionally with
	// parameters: sc://host:15002/;token=…;user_id=… (a token turns on
	// TLS, as in every Spark Connect client).
	URL string
	// Tables become temporary views of the adapter's Spark session, each
	// named Name, over its parquet or csv file. Spark reads the files
	// itself, so Path must be a path the Spark driver and executors see
	// (the site's own Spark, on the site's storage).
	Tables []TableSource
	// InterruptTimeout bounds the Interrupt call sent when a query's
	// context ends (default 5s).
	InterruptTimeout time.Duration
	// Heartbeat is how often an idle engine touches its session so that
	// Spark does not expire it with its temporary views
	// (spark.connect.session.manager.defaultSessionTimeout, 60 min by
	// default); default 5m, negative disables.
	Heartbeat time.Duration
	Allocator memory.Allocator
}

// Spark is an Engine over a Spark Connect server. It opens one Spark
// session and registers the site's tables as temporary views in it.
//
// The Spark Connect Go client (github.com/apache/spark-connect-go/v40)
// materialises every result (DataFrame.ToArrow / Collect) and keeps its
// protocol messages in an internal package, with no way to interrupt an
// operation. The adapter therefore uses the client only to parse the sc://
// URL and dial the gRPC channel, and speaks the three RPCs it needs
// (ExecutePlan, Interrupt, ReleaseSession) itself, with a hand-written
// encoding of their few fields (spark_proto.go): results stream as Arrow
// batches as Spark sends them, and a cancelled query is interrupted on the
// server by its operation id.
type Spark struct {
	conn       *grpc.ClientConn
	md         metadata.MD
	target     string // host:port, no credentials
	sessionID  string
	userID     string
	clientType string
	alloc      memory.Allocator
	intTimeout time.Duration
	logger     *slog.Logger

	lastUse   atomic.Int64 // unix nanoseconds of the last Query
	stop      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ Engine = (*Spark)(nil)

// OpenSpark connects to a Spark Connect server, opens a session (UTC
// session time zone) and registers cfg.Tables as temporary views.
func OpenSpark(ctx context.Context, cfg SparkConfig, logger *slog.Logger) (*Spark, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tables, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("open spark engine: %w", err)
	}
	b, err := channel.NewBuilder(cfg.URL)
	if err != nil {
		// The URL may carry a token: name the problem, not the URL.
		return nil, fmt.Errorf("open spark engine: url: not a Spark Connect URL (sc://host:port[/;param=value…]): %w", err)
	}
	conn, err := b.Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("open spark engine: connect to %s:%d: %w", b.Host(), b.Port(), err)
	}
	md := metadata.MD{}
	for k, v := range b.Headers() {
		md.Append(k, v)
	}
	s := &Spark{
		conn:       conn,
		md:         md,
		target:     fmt.Sprintf("%s:%d", b.Host(), b.Port()),
		sessionID:  b.SessionId(),
		userID:     b.User(),
		clientType: "fedmesh-enginebridge",
		alloc:      cfg.Allocator,
		intTimeout: cfg.InterruptTimeout,
		logger:     logger.With(logkey.Component, "enginebridge", logkey.Engine, "spark"),
	}
	if s.userID == "" {
		s.userID = "fedmesh"
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	if s.intTimeout <= 0 {
		s.intTimeout = 5 * time.Second
	}
	for _, stmt := range sparkSessionSettings {
		if err := s.exec(ctx, stmt); err != nil {
			return nil, errors.Join(fmt.Errorf("open spark engine at %s: %s: %w", s.target, stmt, err), s.Close())
		}
	}
	for i, t := range tables {
		if err := s.exec(ctx, sparkViewDDL(t)); err != nil {
			return nil, errors.Join(fmt.Errorf("open spark engine at %s: tables[%d] (%q, %s file %q): %w", s.target, i, t.Name, t.Format, t.Path, err), s.Close())
		}
	}
	s.stop = make(chan struct{})
	s.loopDone = make(chan struct{})
	if cfg.Heartbeat >= 0 {
		every := cfg.Heartbeat
		if every == 0 {
			every = 5 * time.Minute
		}
		go s.heartbeat(every)
	} else {
		close(s.loopDone)
	}
	s.logger.InfoContext(ctx, "spark engine ready", logkey.Target, s.target, logkey.Session, s.sessionID, logkey.Tables, len(tables))
	return s, nil
}

// sparkSessionSettings are set in the adapter's Spark session before the
// tables are registered.
var sparkSessionSettings = []string{
	// TIMESTAMP results arrive as Timestamp(µs, "UTC").
	"SET spark.sql.session.timeZone = UTC",
	// Adaptive query execution submits each query stage's job from its
	// own thread. An Interrupt that lands while the query is still being
	// planned cancels the jobs running at that moment and interrupts the
	// execution thread, but a stage job AQE submits a moment later runs
	// to completion (seen with Spark 4.0.5: a cancelled count over
	// range(10^13) kept both cores busy). Without AQE every job is
	// submitted by the interrupted execution thread, which then cancels
	// it. Site sub-plans are single-table scans and aggregates, for which
	// AQE gains little.
	"SET spark.sql.adaptive.enabled = false",
}

// validate checks the config and returns its tables. Paths are not
// checked for existence: they are paths on the Spark side, which Spark
// checks when the view is created.
func (cfg *SparkConfig) validate() ([]TableSource, error) {
	var errs []error
	if cfg.URL == "" {
		errs = append(errs, fieldErr("url", "must be set (sc://host:port)"))
	}
	if cfg.InterruptTimeout < 0 {
		errs = append(errs, fieldErr("interrupt_timeout", "must be >= 0, got %v", cfg.InterruptTimeout))
	}
	seen := map[string]int{}
	for i, t := range cfg.Tables {
		at := func(f string) string { return fmt.Sprintf("tables[%d].%s", i, f) }
		switch {
		case t.Name == "":
			errs = append(errs, fieldErr(at("name"), "must be set"))
		case strings.ContainsFunc(t.Name, isControl):
			errs = append(errs, fieldErr(at("name"), "%q contains a control character", t.Name))
		default:
			// Spark view names are case-insensitive, so are duplicates.
			key := strings.ToLower(t.Name)
			if j, dup := seen[key]; dup {
				errs = append(errs, fieldErr(at("name"), "%q duplicates tables[%d].name", t.Name, j))
			} else {
				seen[key] = i
			}
		}
		switch t.Format {
		case FormatParquet, FormatCSV:
		case "":
			errs = append(errs, fieldErr(at("format"), "must be set to %q or %q", FormatParquet, FormatCSV))
		default:
			errs = append(errs, fieldErr(at("format"), "%q is not supported by the spark engine (use %q or %q)", t.Format, FormatParquet, FormatCSV))
		}
		if t.Table != "" {
			errs = append(errs, fieldErr(at("table"), "only valid with format %q", FormatDuckDB))
		}
		switch {
		case t.Path == "":
			errs = append(errs, fieldErr(at("path"), "must be set"))
		case strings.ContainsAny(t.Path, `'\`) || strings.ContainsFunc(t.Path, isControl):
			// Spark's OPTIONS values are plain string literals, whose
			// backslash handling depends on a parser setting: refuse
			// rather than guess.
			errs = append(errs, fieldErr(at("path"), "%q contains a quote, backslash or control character, which the spark engine does not write into SQL", t.Path))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg.Tables, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// sparkViewDDL registers one table as a temporary view of the session.
func sparkViewDDL(t TableSource) string {
	opts := "path '" + t.Path + "'"
	if t.Format == FormatCSV {
		opts += ", header 'true', inferSchema 'true'"
	}
	return "CREATE OR REPLACE TEMPORARY VIEW " + sparkQuoteIdent(t.Name) + " USING " + t.Format + " OPTIONS (" + opts + ")"
}

// sparkQuoteIdent backquotes a Spark identifier (as the planner's Spark
// dialect does).
func sparkQuoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// Dialect returns "spark".
func (s *Spark) Dialect() string { return "spark" }

// Query runs query, which must carry its literals inline (the planner's
// spark dialect does): Spark Connect has no bound parameters, so args must
// be empty. Query returns when Spark sends the first batch; later batches
// are received as the reader is iterated. When ctx ends, the running Spark
// operation is interrupted (Spark Connect Interrupt by operation id, which
// cancels its Spark jobs) and Query or Err return an error wrapping
// ctx.Err().
func (s *Spark) Query(ctx context.Context, query string, args []any) (array.RecordReader, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("spark query: got %d bound argument(s), but Spark Connect takes none: render the query with the planner's spark dialect, which writes literals inline", len(args))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spark query: %w", err)
	}
	opID := uuid.NewString()
	s.lastUse.Store(time.Now().UnixNano())
	s.logger.DebugContext(ctx, "spark query", slog.String(logkey.SQL, query), slog.String(logkey.Operation, opID))
	sctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, s.md))
	stream, err := s.conn.NewStream(sctx, &grpc.StreamDesc{StreamName: "ExecutePlan", ServerStreams: true},
		sparkMethodExecutePlan, grpc.ForceCodec(rawCodec{}))
	if err == nil {
		req := encodeExecutePlanRequest(s.sessionID, s.userID, s.clientType, opID, query)
		if err = stream.SendMsg(&req); err == nil {
			err = stream.CloseSend()
		}
	}
	if err != nil {
		cancel()
		return nil, wrapCtxErr(ctx, fmt.Errorf("spark query: %w", s.rpcErr(err)))
	}
	r := &sparkReader{s: s, ctx: ctx, opID: opID, stream: stream, cancel: cancel}
	r.refs.Store(1)
	r.stopInterrupt = context.AfterFunc(ctx, func() { s.interrupt(opID, time.Now()) })
	// Wait for the first batch: it carries the result's schema.
	for r.schema == nil && r.recv() {
	}
	if r.err != nil {
		err := r.err
		r.Release()
		return nil, err
	}
	if r.schema == nil {
		// A statement without result rows (DDL, SET) may send no batch.
		r.schema = arrow.NewSchema(nil, nil)
	}
	return r, nil
}

// heartbeat runs a trivial query when the session was idle for a while,
// which keeps Spark from expiring it.
func (s *Spark) heartbeat(every time.Duration) {
	defer close(s.loopDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, s.lastUse.Load())) < every {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := s.exec(ctx, "SELECT 1"); err != nil {
			s.logger.Warn("spark session heartbeat failed", logkey.Session, s.sessionID, logkey.Err, err)
		}
		cancel()
	}
}

// exec runs a statement and discards its result.
func (s *Spark) exec(ctx context.Context, stmt string) error {
	r, err := s.Query(ctx, stmt, nil)
	if err != nil {
		return err
	}
	defer r.Release()
	for r.Next() {
	}
	return r.Err()
}

// interrupt asks Spark to stop operation opID (its Spark jobs are
// cancelled). It is best effort. When Spark reports that it interrupted
// nothing, the operation either ended or is not registered yet (its
// ExecutePlan call, sent just before, can reach the server's handler after
// the Interrupt), so it asks again twice, 100 ms and 400 ms later.
func (s *Spark) interrupt(opID string, since time.Time) {
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), s.md), s.intTimeout)
	defer cancel()
	req := encodeInterruptRequest(s.sessionID, s.userID, s.clientType, opID)
	for attempt, wait := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond} {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
		var resp []byte
		err := s.conn.Invoke(ctx, sparkMethodInterrupt, &req, &resp, grpc.ForceCodec(rawCodec{}))
		if err != nil {
			s.logger.Warn("spark interrupt failed", logkey.Operation, opID, logkey.Err, s.rpcErr(err))
			return
		}
		if ids, _ := decodeInterruptResponse(resp); len(ids) > 0 {
			s.logger.Debug("spark operation interrupted", logkey.Operation, opID, logkey.Attempt, attempt+1, logkey.Latency, time.Since(since))
			return
		}
	}
	s.logger.Debug("spark operation not running when interrupted", logkey.Operation, opID)
}

// rpcErr turns a gRPC status into an error naming the server and Spark's
// message (which carries Spark's error class, e.g.
// [TABLE_OR_VIEW_NOT_FOUND]).
func (s *Spark) rpcErr(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("spark at %s: cancelled: %w", s.target, context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("spark at %s: deadline exceeded: %w", s.target, context.DeadlineExceeded)
	}
	return fmt.Errorf("spark at %s: %s: %s", s.target, st.Code(), st.Message())
}

// Close releases the Spark session (its temporary views) and closes the
// connection.
func (s *Spark) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.loopDone
		}
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), s.md), 5*time.Second)
		defer cancel()
		req := encodeReleaseSessionRequest(s.sessionID, s.userID, s.clientType)
		var resp []byte
		if err := s.conn.Invoke(ctx, sparkMethodReleaseSession, &req, &resp, grpc.ForceCodec(rawCodec{})); err != nil {
			s.logger.Warn("spark release session failed", logkey.Session, s.sessionID, logkey.Err, s.rpcErr(err))
		}
		if err := s.conn.Close(); err != nil {
			s.closeErr = fmt.Errorf("close spark engine: %w", err)
		}
	})
	return s.closeErr
}
