package flight

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
)

// Site progress states reported to a Progress callback.
const (
	SiteRunning = "running"
	SiteDone    = "done"
	SiteFailed  = "failed"
	// SiteRefused is a failure the site decided (its policy denied the
	// sub-plan, or it refused the caller), as opposed to one of
	// availability.
	SiteRefused = "refused"
)

// SiteProgress is one site's state in a fan-out.
type SiteProgress struct {
	Site    string
	State   string // SiteRunning, SiteDone, SiteFailed or SiteRefused
	Rows    int64  // rows received (when done)
	Elapsed time.Duration
}

// Progress is told each site's state changes during a FanOut. It must be
// safe for concurrent use and quick: it runs on the fan-out's goroutines.
type Progress func(SiteProgress)

type progressKey struct{}

// WithProgress returns ctx carrying p, which FanOut under ctx calls as
// each site starts and finishes. Carried on the context so the callers
// between a query's owner and the fan-out need not change.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// reportProgress calls the context's Progress, if any.
func reportProgress(ctx context.Context, sp SiteProgress) {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok && p != nil {
		p(sp)
	}
}

// failedState classifies a site's failure code for progress.
func failedState(code codes.Code) string {
	switch code {
	case codes.PermissionDenied, codes.Unauthenticated:
		return SiteRefused
	}
	return SiteFailed
}

// resultRows counts the rows of a site's result.
func resultRows(r SiteResult) int64 {
	var n int64
	for _, b := range r.Batches {
		n += b.NumRows()
	}
	return n
}
