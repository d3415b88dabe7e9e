package policy

import "time"

// DPReport is what a site says about a differentially private result, next
// to the result (flight.ResultMeta.Privacy, as JSON): the noise on each
// column, the release threshold, and what the query charged the analyst's
// budget and what is left. It holds no exact count of anything.
type DPReport struct {
	Table     string           `json:"table"`
	Epsilon   float64          `json:"epsilon"`
	Delta     float64          `json:"delta"`
	Rho       float64          `json:"rho"`
	Threshold int64            `json:"threshold,omitempty"`
	Columns   []DPColumnReport `json:"columns"`
	Budget    []BudgetLeft     `json:"budget"`
}

// DPColumnReport is the noise on one partial column: a discrete Gaussian
// with parameter Sigma (its standard deviation, within a hair), in the
// column's units.
type DPColumnReport struct {
	Name  string  `json:"name"`
	Kind  DPKind  `json:"kind"`
	Sigma float64 `json:"sigma"`
	// Center and CenteredSigma, for a sum released as deviations from the
	// middle of its bounds plus the center times a noisy count: the center
	// and the noise on the deviations alone (an average's interval uses
	// them: AVG = Center + Σdeviations/count).
	Center        float64 `json:"center,omitempty"`
	CenteredSigma float64 `json:"centered_sigma,omitempty"`
}

// BudgetLeft is one period of an analyst's budget at a site, in zCDP ρ.
type BudgetLeft struct {
	Period string    `json:"period"` // "day", "month" or "total"
	Limit  float64   `json:"limit_rho"`
	Spent  float64   `json:"spent_rho"`
	Left   float64   `json:"left_rho"`
	Renews time.Time `json:"renews,omitzero"`
}

// Report returns the report of p, with budget (the analyst's budget after
// this query's charge).
func (p *DPPlan) Report(table string, budget []BudgetLeft) DPReport {
	r := DPReport{Table: table, Epsilon: p.Epsilon, Delta: p.Delta, Rho: p.Rho, Threshold: p.Threshold, Budget: budget}
	for _, c := range p.Columns {
		r.Columns = append(r.Columns, DPColumnReport{Name: c.Name, Kind: c.Kind, Sigma: c.Sigma, Center: c.Center, CenteredSigma: c.CenteredSigma})
	}
	return r
}
