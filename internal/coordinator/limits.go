package coordinator

import (
	"errors"
	"net/http"
	"slices"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/review"
	"github.com/fedmesh/fedmesh/planner"
)

// checkLimits refuses plans that break one of the planner's size limits
// (planner.CheckLimits), before any site is contacted: a site would refuse
// them too, after doing work, and the analyst would learn less. The ticket
// size (flight.MaxTicketSize) is checked by FanOut, which encodes every
// ticket before it sends any; planTooLarge turns that error into the same
// answer.
func checkLimits(plans map[string]*planner.SubPlan) error {
	sites := make([]string, 0, len(plans))
	for s := range plans {
		sites = append(sites, s)
	}
	slices.Sort(sites)
	for _, s := range sites {
		if err := planner.CheckLimits(plans[s]); err != nil {
			return &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodePlanTooLarge, Message: err.Error()}
		}
	}
	return nil
}

// planTooLarge returns the analyst's error for a fan-out that failed
// because a ticket was over flight.MaxTicketSize, or nil.
func planTooLarge(err error) *QueryError {
	var te *flight.TicketSizeError
	if !errors.As(err, &te) {
		return nil
	}
	return &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodePlanTooLarge,
		Message: "plan too large: " + te.Error() + "; nothing was sent to any site; simplify the query (fewer or shorter literals, fewer aggregates over long expressions)"}
}

// dataQueryAllowed reports whether an analyst may run data queries: a
// caller whose only role is review.RoleAuditor reads the audit trail, not
// the data.
func dataQueryAllowed(an Analyst) bool {
	return slices.ContainsFunc(an.Roles, func(r string) bool { return r != review.RoleAuditor }) || !slices.Contains(an.Roles, review.RoleAuditor)
}
