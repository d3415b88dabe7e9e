package flight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error detail identifying a policy denial on the wire.
const (
	deniedReason = "POLICY_DENIED"
	errorDomain  = "fedmesh"
	metaSite     = "site"
	metaReasons  = "reasons"
	metaHead     = "audit_head"
)

// DeniedError is returned by a Handler when the site's policy refuses the
// sub-plan. The reasons travel to the coordinator; they must name rules and
// columns, never data values.
type DeniedError struct {
	Site    string
	Reasons []string
	// AuditHead is the site's signed audit head over its record of the
	// denial (JSON, as ResultMeta.AuditHead), or "".
	AuditHead string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("site %q: %s", e.Site, e.wireMessage())
}

// wireMessage is the status message; the coordinator adds the site.
func (e *DeniedError) wireMessage() string {
	return "policy denied: " + joinReasons(e.Reasons)
}

// PlanError is returned by a Handler when the sub-plan is malformed or uses
// something the site cannot serve (unknown op, unknown table).
type PlanError struct {
	Site string
	Msg  string
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("site %q: %s", e.Site, e.wireMessage())
}

func (e *PlanError) wireMessage() string { return "invalid sub-plan: " + e.Msg }

// SiteError is the error FanOut returns for the first site that failed.
// Code is the gRPC code the site (or the transport) reported; Denied is set
// when the site's policy refused the sub-plan, with the site's Reasons.
type SiteError struct {
	Site    string
	Code    codes.Code
	Denied  bool
	Reasons []string
	Err     error
	// AuditHead is the signed audit head a denying site sent (JSON), or "".
	AuditHead string
	// Busy is set when the site could not admit the sub-plan now
	// (BusyError), with its reason and retry-after hint.
	Busy       bool
	BusyReason string
	RetryAfter time.Duration
}

func (e *SiteError) Error() string {
	if e.Denied {
		return fmt.Sprintf("site %q: policy denied: %s", e.Site, joinReasons(e.Reasons))
	}
	return fmt.Sprintf("site %q: %s: %s", e.Site, codeWords(e.Code), errMessage(e.Err))
}

func (e *SiteError) Unwrap() error { return e.Err }

func joinReasons(r []string) string {
	if len(r) == 0 {
		return "no reason given"
	}
	return strings.Join(r, "; ")
}

// codeWords turns a gRPC code into lowercase words: "DeadlineExceeded" →
// "deadline exceeded".
func codeWords(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// grpcStatus finds the innermost gRPC status in err's chain. Unlike
// status.FromError it keeps the status's own message, not the text of the
// wrappers around it.
func grpcStatus(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		if st := se.GRPCStatus(); st != nil {
			return st, true
		}
	}
	return nil, false
}

func errMessage(err error) string {
	if err == nil {
		return "unknown error"
	}
	if st, ok := grpcStatus(err); ok {
		return st.Message()
	}
	return err.Error()
}

// handlerStatus converts a Handler error into the status sent to the
// coordinator. Unknown errors become Internal with a generic message: the
// full error stays in the site's log, because it may quote engine output.
func handlerStatus(err error, queryID string) *status.Status {
	var denied *DeniedError
	var planErr *PlanError
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		return busyStatus(busy)
	case errors.As(err, &denied):
		reasons := denied.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		js, jerr := json.Marshal(reasons)
		if jerr != nil {
			return status.New(codes.Internal, "encode denial reasons")
		}
		st := status.New(codes.PermissionDenied, denied.wireMessage())
		withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{
			Reason:   deniedReason,
			Domain:   errorDomain,
			Metadata: map[string]string{metaSite: denied.Site, metaReasons: string(js), metaHead: denied.AuditHead},
		})
		if derr != nil {
			return st
		}
		return withInfo
	case errors.As(err, &planErr):
		return status.New(codes.InvalidArgument, planErr.wireMessage())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err)
	default:
		return status.Newf(codes.Internal, "site failed to serve query %q; see the site agent's log", queryID)
	}
}

// siteError classifies an error seen while fetching one site's result.
func siteError(site string, err error) *SiteError {
	var se *SiteError
	if errors.As(err, &se) {
		return se
	}
	st, ok := grpcStatus(err)
	if !ok {
		code := codes.Internal
		switch {
		case errors.Is(err, context.Canceled):
			code = codes.Canceled
		case errors.Is(err, context.DeadlineExceeded):
			code = codes.DeadlineExceeded
		}
		return &SiteError{Site: site, Code: code, Err: err}
	}
	out := &SiteError{Site: site, Code: st.Code(), Err: err}
	if st.Code() == codes.ResourceExhausted {
		parseBusy(st, out)
	}
	if st.Code() != codes.PermissionDenied {
		return out
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetReason() != deniedReason || info.GetDomain() != errorDomain {
			continue
		}
		out.Denied = true
		out.AuditHead = info.GetMetadata()[metaHead]
		var reasons []string
		if err := json.Unmarshal([]byte(info.GetMetadata()[metaReasons]), &reasons); err == nil {
			out.Reasons = reasons
		}
	}
	return out
}
