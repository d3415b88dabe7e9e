package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/fedmesh/fedmesh/policy"
)

// Budget is an analyst's privacy budget for one table at every site that
// protects it, as each site's own ledger has it.
type Budget struct {
	Table string       `json:"table"`
	Sites []SiteBudget `json:"sites"`
}

// SiteBudget is one site's answer: its budget periods (zCDP ρ; limit, spent,
// left, renewal) and what one query at the default ε would charge; or why
// the site has no budget to show (the table is not protected there, or the
// site refused).
type SiteBudget struct {
	Site      string              `json:"site"`
	Protected bool                `json:"protected"`
	Budget    []policy.BudgetLeft `json:"budget,omitempty"`
	// Epsilon, Delta and Rho are what one query at the site's default
	// privacy parameters charges.
	Epsilon float64  `json:"epsilon,omitempty"`
	Delta   float64  `json:"delta,omitempty"`
	Rho     float64  `json:"rho,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	Error   string   `json:"error,omitempty"`
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// BudgetFor asks every site holding table what the analyst has left there.
// Each site verifies the analyst's credential and reads its own ledger (a
// policy dry run of a COUNT(*) over the table, which charges nothing); the
// coordinator keeps no budget of its own.
func (c *Coordinator) BudgetFor(ctx context.Context, an Analyst, table string) (*Budget, error) {
	if !tableName.MatchString(table) {
		return nil, &QueryError{HTTPStatus: http.StatusBadRequest, Code: CodeBadRequest,
			Message: fmt.Sprintf("table: %q is not a table name (letters, digits and _)", table)}
	}
	ex, err := c.PolicyExplain(ctx, an, "SELECT COUNT(*) FROM "+table, "budget", nil)
	if err != nil {
		return nil, err
	}
	out := &Budget{Table: table, Sites: []SiteBudget{}}
	for _, s := range ex.Sites {
		sb := SiteBudget{Site: s.Site, Error: s.Error}
		if len(s.Privacy) > 0 {
			var rep policy.DPReport
			if err := json.Unmarshal(s.Privacy, &rep); err != nil {
				sb.Error = "unreadable privacy report: " + err.Error()
			} else {
				sb.Protected, sb.Budget, sb.Epsilon, sb.Delta, sb.Rho = true, rep.Budget, rep.Epsilon, rep.Delta, rep.Rho
			}
		} else if !s.Allow {
			sb.Reasons = s.Reasons
		}
		out.Sites = append(out.Sites, sb)
	}
	return out, nil
}

// budgetEndpoint serves GET /v1/budget?table=T.
func (c *Coordinator) budgetEndpoint(w http.ResponseWriter, r *http.Request) {
	an, ok := c.authenticateRequest(w, r)
	if !ok {
		return
	}
	b, err := c.BudgetFor(r.Context(), an, r.URL.Query().Get("table"))
	writeAnswer(w, b, err)
}
