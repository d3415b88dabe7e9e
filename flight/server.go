package flight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// Handler serves one sub-plan for an authenticated peer. It returns the
// result schema and the permitted batches (already policy-enforced and
// audited — the server only streams them) or an error: *DeniedError when
// policy refuses, *PlanError when the plan is malformed, a context error when
// ctx ended; anything else reaches the coordinator as an opaque internal
// error.
type Handler interface {
	Serve(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*Result, error)
}

// Result is what a Handler exports. The server releases Batches after
// streaming them (or after failing to).
type Result struct {
	Schema  *arrow.Schema
	Batches []arrow.RecordBatch
	Meta    ResultMeta
}

// ResultMeta describes a site's result. It travels in the Arrow schema's
// metadata under the MetaKey* keys.
type ResultMeta struct {
	Site             string
	Rows             int64 // set by the server to the number of rows it streams
	SuppressedGroups int64
	// SuppressedReport says what SuppressedGroups is, as the site's policy
	// allows (policy.SuppressedReport): "exact" (or "" from an older
	// site), "coarse" (rounded down to a power of ten), "flag" (0 or 1:
	// whether some group was dropped) or "none".
	SuppressedReport string
	BundleRevision   string
	DecisionID       string
	// AuditHead is the site's signed audit head over the export record of
	// this result, as JSON (audit.SignedHead); "" when the site does not
	// sign. The coordinator keeps it to check the site's log later.
	AuditHead string
	// Privacy is the site's differential-privacy report on this result, as
	// JSON (policy.DPReport); "" for an exact result.
	Privacy string
}

// DefaultShutdownGrace is how long Serve lets in-flight streams finish once
// its context is done, when Server.ShutdownGrace is zero.
const DefaultShutdownGrace = 10 * time.Second

// Server is the site agent's Flight service. It implements DoGet and, for
// the explain and catalog actions, DoAction.
type Server struct {
	flight.BaseFlightServer

	// ShutdownGrace bounds the graceful stop in Serve; set it before Serve.
	ShutdownGrace time.Duration
	// MaxConnectionAge, if positive, has clients reconnect (GOAWAY) once a
	// connection is that old, so that rotated SVIDs and bundles and a
	// changed allow-list apply to long-lived clients too: TLS checks a peer
	// only at the handshake. Streams in flight finish on the old connection.
	MaxConnectionAge time.Duration
	// Health, if set, is served beside the Flight service as the standard
	// gRPC health service (grpc.health.v1.Health), under the same mTLS.
	Health healthgrpc.HealthServer

	h      Handler
	logger *slog.Logger
}

var _ flight.FlightServer = (*Server)(nil)

// NewServer returns a Server that answers DoGet with h. A nil logger
// discards logs.
func NewServer(h Handler, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{h: h, logger: logger.With(logkey.Component, "flight.server")}
}

// Serve runs a gRPC server with creds on lis until ctx is done, then stops
// gracefully, cutting off streams still running after ShutdownGrace. It
// returns nil after a shutdown caused by ctx, or the error that stopped the
// listener. creds must be TLS that verifies client certificates (see
// ServerCredentials); connections without a verified SPIFFE ID are refused
// per call.
func (s *Server) Serve(ctx context.Context, lis net.Listener, creds credentials.TransportCredentials) error {
	if creds == nil {
		return errors.New("flight server: transport credentials must be set")
	}
	if s.h == nil {
		return errors.New("flight server: handler must be set")
	}
	opts := []grpc.ServerOption{grpc.Creds(creds)}
	if s.MaxConnectionAge > 0 {
		opts = append(opts, grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: s.MaxConnectionAge}))
	}
	gs := grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(gs, s)
	if s.Health != nil {
		healthgrpc.RegisterHealthServer(gs, s.Health)
	}

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	s.logger.Info("flight server listening", logkey.Addr, lis.Addr().String())

	select {
	case err := <-errc:
		gs.Stop()
		return fmt.Errorf("flight server on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}

	grace := s.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.logger.Warn("flight server: graceful stop timed out, closing streams", logkey.Grace, grace)
		gs.Stop()
		<-stopped
	}
	<-errc // Serve returns nil after (Graceful)Stop
	s.logger.Info("flight server stopped")
	return nil
}

// DoGet decodes the ticket, asks the Handler for the result and streams it.
func (s *Server) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) (err error) {
	ctx := stream.Context()
	start := time.Now()
	id, err := PeerID(ctx)
	if err != nil {
		s.logger.Warn("refused unauthenticated peer", logkey.Err, err)
		return status.Errorf(codes.Unauthenticated, "no verified SPIFFE ID: %v", err)
	}
	log := s.logger.With(logkey.Peer, id.String())
	sp, err := DecodeTicket(tkt.GetTicket())
	if err != nil {
		log.Warn("refused malformed ticket", logkey.Err, err)
		return status.Error(codes.InvalidArgument, err.Error())
	}
	log = log.With(logkey.QueryID, sp.QueryID, logkey.Site, sp.Site)

	defer func() {
		if r := recover(); r != nil {
			log.Error("handler panicked", logkey.Panic, fmt.Sprint(r))
			err = status.Errorf(codes.Internal, "site failed to serve query %q; see the site agent's log", sp.QueryID)
		}
	}()

	res, err := s.h.Serve(ctx, id, sp)
	if err != nil {
		st := handlerStatus(err, sp.QueryID)
		log.Info("sub-plan not served", logkey.Code, st.Code().String(), logkey.Err, err)
		return st.Err()
	}
	if res == nil {
		log.Error("handler returned no result and no error")
		return status.Errorf(codes.Internal, "site failed to serve query %q; see the site agent's log", sp.QueryID)
	}
	defer func() {
		for _, b := range res.Batches {
			if b != nil {
				b.Release()
			}
		}
	}()
	rows, err := s.stream(ctx, stream, res)
	if err != nil {
		st := status.Newf(codes.Internal, "site failed to stream query %q; see the site agent's log", sp.QueryID)
		if ctx.Err() != nil {
			st = status.FromContextError(ctx.Err())
		}
		log.Warn("result stream failed", logkey.Code, st.Code().String(), logkey.Err, err)
		return st.Err()
	}
	log.Info("sub-plan served", logkey.Rows, rows, logkey.Elapsed, time.Since(start))
	return nil
}

func (s *Server) stream(ctx context.Context, stream flight.FlightService_DoGetServer, res *Result) (int64, error) {
	if res.Schema == nil {
		return 0, errors.New("handler result has no schema")
	}
	var rows int64
	for i, b := range res.Batches {
		if b == nil {
			return 0, fmt.Errorf("handler result batch %d is nil", i)
		}
		if !b.Schema().Equal(res.Schema) {
			return 0, fmt.Errorf("handler result batch %d schema %s does not match result schema %s", i, b.Schema(), res.Schema)
		}
		rows += b.NumRows()
	}
	meta := res.Meta
	meta.Rows = rows
	w := flight.NewRecordWriter(stream, ipc.WithSchema(withResultMeta(res.Schema, meta)))
	for i, b := range res.Batches {
		if err := ctx.Err(); err != nil {
			_ = w.Close()
			return 0, err
		}
		if err := w.Write(b); err != nil {
			_ = w.Close()
			return 0, fmt.Errorf("write batch %d: %w", i, err)
		}
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("close result stream: %w", err)
	}
	return rows, nil
}

// Schema metadata keys carrying ResultMeta.
const (
	MetaKeySite             = "fedmesh.site"
	MetaKeyRows             = "fedmesh.rows"
	MetaKeySuppressedGroups = "fedmesh.suppressed_groups"
	MetaKeyBundleRevision   = "fedmesh.bundle_revision"
	MetaKeyDecisionID       = "fedmesh.decision_id"
	MetaKeyAuditHead        = "fedmesh.audit_head"
	MetaKeyPrivacy          = "fedmesh.privacy"
	MetaKeySuppressedReport = "fedmesh.suppressed_report"
)

var metaKeys = []string{MetaKeySite, MetaKeyRows, MetaKeySuppressedGroups, MetaKeyBundleRevision, MetaKeyDecisionID, MetaKeyAuditHead, MetaKeyPrivacy, MetaKeySuppressedReport}

// withResultMeta returns schema with m added to its metadata, replacing any
// fedmesh keys the handler may have set.
func withResultMeta(schema *arrow.Schema, m ResultMeta) *arrow.Schema {
	keys, vals := withoutMetaKeys(schema.Metadata())
	keys = append(keys, metaKeys...)
	vals = append(vals, m.Site, strconv.FormatInt(m.Rows, 10), strconv.FormatInt(m.SuppressedGroups, 10), m.BundleRevision, m.DecisionID, m.AuditHead, m.Privacy, m.SuppressedReport)
	md := arrow.NewMetadata(keys, vals)
	return arrow.NewSchemaWithEndian(schema.Fields(), &md, schema.Endianness())
}

func withoutMetaKeys(md arrow.Metadata) (keys, vals []string) {
	for i, k := range md.Keys() {
		if isMetaKey(k) {
			continue
		}
		keys = append(keys, k)
		vals = append(vals, md.Values()[i])
	}
	return keys, vals
}

func isMetaKey(k string) bool {
	for _, mk := range metaKeys {
		if k == mk {
			return true
		}
	}
	return false
}
