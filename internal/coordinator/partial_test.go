package coordinator

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fedmesh/fedmesh/flight"
)

// Only availability failures may leave a site out of a partial answer; a
// refusal, a malformed plan or a wrong identity fail the query.
func TestPartialEligible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		se   flight.SiteError
		want bool
	}{
		{"busy", flight.SiteError{Code: codes.ResourceExhausted, Busy: true}, true},
		{"down", flight.SiteError{Code: codes.Unavailable}, true},
		{"slow", flight.SiteError{Code: codes.DeadlineExceeded}, true},
		{"engine failed", flight.SiteError{Code: codes.Internal}, true},
		{"policy refusal", flight.SiteError{Code: codes.PermissionDenied, Denied: true}, false},
		{"permission denied without details", flight.SiteError{Code: codes.PermissionDenied}, false},
		{"malformed plan", flight.SiteError{Code: codes.InvalidArgument}, false},
		{"wrong identity", flight.SiteError{Code: codes.Unauthenticated}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := partialEligible(&tt.se); got != tt.want {
				t.Errorf("partialEligible = %v, want %v", got, tt.want)
			}
		})
	}
}
