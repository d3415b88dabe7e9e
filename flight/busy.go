package flight

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Error detail identifying a busy site on the wire.
const (
	busyReason     = "SITE_BUSY"
	metaBusyReason = "busy_reason"
)

// BusyError is returned by a Handler when the site cannot admit the
// sub-plan now (its queue is full or the wait timed out). It travels as
// RESOURCE_EXHAUSTED with the reason and a retry-after hint, which the
// coordinator passes on to the analyst.
type BusyError struct {
	Site       string
	Reason     string // e.g. "queue_full", "queue_timeout"
	Msg        string
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("site %q: %s", e.Site, e.Msg)
}

// busyStatus is the wire form of e.
func busyStatus(e *BusyError) *status.Status {
	st := status.New(codes.ResourceExhausted, e.Msg)
	withInfo, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: busyReason, Domain: errorDomain, Metadata: map[string]string{metaSite: e.Site, metaBusyReason: e.Reason}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)},
	)
	if err != nil {
		return st
	}
	return withInfo
}

// parseBusy fills out's busy fields from a RESOURCE_EXHAUSTED status that
// carries the site's busy details.
func parseBusy(st *status.Status, out *SiteError) {
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetReason() == busyReason && d.GetDomain() == errorDomain {
				out.Busy = true
				out.BusyReason = d.GetMetadata()[metaBusyReason]
			}
		case *errdetails.RetryInfo:
			out.RetryAfter = d.GetRetryDelay().AsDuration()
		}
	}
}

// IsBusy reports whether err is a site's busy answer, and its retry-after
// hint.
func IsBusy(err error) (retryAfter time.Duration, ok bool) {
	var se *SiteError
	if errors.As(err, &se) && se.Busy {
		return se.RetryAfter, true
	}
	return 0, false
}
