package credential

import "errors"

// ErrInvalid matches (errors.Is) every refusal of a credential: the token
// is malformed, badly signed, expired, for another audience, … The caller
// answers it with "unauthenticated".
var ErrInvalid = errors.New("invalid analyst credential")

// ErrUnavailable matches failures to obtain the issuer's keys (the JWKS URL
// does not answer and no keys were ever fetched): the credential may be
// fine, the verifier cannot tell yet. The caller answers it with "try
// again", not "unauthenticated".
var ErrUnavailable = errors.New("analyst credential keys unavailable")

// Error is why a credential was refused. Reason never contains the token.
type Error struct {
	Reason string
	// Unavailable marks a failure to load the issuer's keys rather than a
	// fault of the token (errors.Is(err, ErrUnavailable)).
	Unavailable bool
	// Err is the underlying cause, if any (a fetch or file error).
	Err error
}

func (e *Error) Error() string { return "analyst credential: " + e.Reason }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) (or ErrUnavailable) hold.
func (e *Error) Is(target error) bool {
	if e.Unavailable {
		return target == ErrUnavailable
	}
	return target == ErrInvalid
}

func invalid(reason string) *Error { return &Error{Reason: reason} }
