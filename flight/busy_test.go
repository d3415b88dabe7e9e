package flight

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A busy site's answer survives the wire: code, reason and retry-after,
// also when the handler wraps the error.
func TestBusyRoundTrip(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("serve: %w", &BusyError{Site: "b", Reason: "queue_full", Msg: "busy: all 2 engine slots are taken", RetryAfter: 3 * time.Second})
	st := handlerStatus(err, "q1")
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code %s, want ResourceExhausted", st.Code())
	}
	se := siteError("b", st.Err())
	if !se.Busy || se.BusyReason != "queue_full" || se.RetryAfter != 3*time.Second || se.Denied {
		t.Errorf("site error %+v, want busy queue_full retry 3s", se)
	}
	if d, ok := IsBusy(se); !ok || d != 3*time.Second {
		t.Errorf("IsBusy = %s, %v", d, ok)
	}
	// A plain RESOURCE_EXHAUSTED (e.g. a gRPC message size limit) is not
	// a busy site.
	if se := siteError("b", status.Error(codes.ResourceExhausted, "grpc: received message larger than max")); se.Busy {
		t.Error("a plain RESOURCE_EXHAUSTED read as a busy site")
	}
}
