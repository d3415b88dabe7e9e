package ledger

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

var (
	// ErrBudgetExhausted is wrapped by every refusal for lack of budget; the
	// details are in an [*ExhaustedError] (errors.As).
	ErrBudgetExhausted = errors.New("privacy budget exhausted")
	// ErrDuplicateCharge means the query ID was charged before; nothing was
	// charged this time.
	ErrDuplicateCharge = errors.New("query already charged")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("ledger closed")
)

// ExhaustedError says which budget a debit would have exceeded. When several
// would be exceeded it names the one that renews last (total, then month,
// then day), since that is how long the analyst has to wait. The fields are
// the ledger's exact amounts (10⁻¹² units, charges rounded up); the message
// shows them to 6 significant digits.
type ExhaustedError struct {
	Ledger  string // path of the ledger file
	Analyst string
	Period  Period
	Limit   float64   // ρ allowed in the period
	Spent   float64   // ρ already spent in the period
	Asked   float64   // ρ the refused query asked for
	Renews  time.Time // when the period's budget starts again; zero for total
}

func (e *ExhaustedError) Error() string {
	renew := "the total budget does not renew; ask the site's data officer to raise it"
	if !e.Renews.IsZero() {
		renew = "renews " + e.Renews.Format(time.RFC3339) + "; wait until then or ask the site's data officer to raise it"
	}
	return fmt.Sprintf("ledger %s: analyst %q: %s budget ρ=%s spent %s, query asks %s; %s",
		e.Ledger, e.Analyst, e.Period, fmtFloat(e.Limit), fmtFloat(e.Spent), fmtFloat(e.Asked), renew)
}

// Unwrap makes errors.Is(err, ErrBudgetExhausted) hold.
func (e *ExhaustedError) Unwrap() error { return ErrBudgetExhausted }

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
