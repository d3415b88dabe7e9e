package coordinator

import "time"

// ErrorCode says what kind of failure a QueryError is; analysts' tools
// switch on it, so each code keeps its meaning.
type ErrorCode string

// Error codes.
const (
	CodeBadRequest      ErrorCode = "bad_request"     // the request body is not what the endpoint takes
	CodeUnauthenticated ErrorCode = "unauthenticated" // no bearer token, or an unknown one
	CodeParseError      ErrorCode = "parse_error"     // the SQL is not one fedmesh can run
	CodeUnknownTable    ErrorCode = "unknown_table"   // no site holds the query's table
	CodeUnknownColumn   ErrorCode = "unknown_column"  // a site described the table without a column the query uses
	CodePlanTooLarge    ErrorCode = "plan_too_large"  // a sub-plan breaks a size limit (planner/limits.go, flight.MaxTicketSize); nothing was sent
	CodeForbidden       ErrorCode = "forbidden"       // the caller's roles do not allow this endpoint
	CodePolicyDenied    ErrorCode = "policy_denied"   // a site's policy or the coordinator's refused the query
	CodeSiteFailed      ErrorCode = "site_failed"     // a site could not be asked or failed to answer
	CodeTimeout         ErrorCode = "timeout"         // a site did not answer before the query's deadline
	CodeMergeFailed     ErrorCode = "merge_failed"    // the sites' partial results could not be merged
	CodeAuditFailed     ErrorCode = "audit_failed"    // the coordinator could not record the query, so gives no answer
	CodeInternal        ErrorCode = "internal"        // anything else; see the coordinator's log
	CodeSiteBusy        ErrorCode = "site_busy"       // a site's admission queue was full or the wait timed out (503, Retry-After)
	CodeQuotaExceeded   ErrorCode = "quota_exceeded"  // the analyst is over a coordinator quota (429, Retry-After)
)

// QueryError is a failed query as the analyst sees it.
type QueryError struct {
	HTTPStatus int       `json:"-"`
	Code       ErrorCode `json:"code"`
	Message    string    `json:"message"`
	Site       string    `json:"site,omitempty"`
	Reasons    []string  `json:"reasons,omitempty"`
	Position   int       `json:"position,omitempty"` // 1-based character in the SQL
	QueryID    string    `json:"query_id,omitempty"`
	// RetryAfter is whole seconds to wait before retrying (site_busy,
	// quota_exceeded); also sent as the Retry-After header.
	RetryAfter int `json:"retry_after,omitempty"`
}

func (e *QueryError) Error() string { return string(e.Code) + ": " + e.Message }

// retrySeconds rounds a retry-after hint up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
