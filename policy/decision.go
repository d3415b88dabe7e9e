package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// DecisionPath is the document every bundle must define.
const DecisionPath = "data.fedmesh.decision"

// Errors returned (wrapped) by Evaluate. Whatever the error, the returned
// Decision denies.
var (
	// ErrUndefined: the bundle produced no value for data.fedmesh.decision.
	ErrUndefined = errors.New("policy decision is undefined")
	// ErrMalformedDecision: data.fedmesh.decision is not shaped like a decision.
	ErrMalformedDecision = errors.New("policy decision is malformed")
)

// Obligations are conditions an allowed sub-plan and its result must meet.
type Obligations struct {
	// MinGroupSize: groups whose COUNT(*) is below this are dropped at the
	// site before export. 0 or 1 suppresses nothing.
	MinGroupSize int64 `json:"min_group_size"`
	// DenyColumns: columns the plan must not use in any role.
	DenyColumns []string `json:"deny_columns,omitempty"`
	// MaxGroups: if > 0, a result with more groups (after suppression) is
	// refused as a whole.
	MaxGroups int64 `json:"max_groups,omitempty"`
	// RowFilter: a predicate, in the same structure as input.plan.filter,
	// that the agent ANDs into the sub-plan's filter before rendering, so
	// only rows it admits are aggregated (e.g. consent = true).
	RowFilter *planner.Expr `json:"row_filter,omitempty"`
	// RoundTo: if > 1, every aggregate output (including the group count) is
	// rounded to the nearest multiple of RoundTo before export, after small
	// groups are dropped.
	RoundTo int64 `json:"round_to,omitempty"`
	// DP, when set, means the sub-plan may be answered only with
	// differential privacy, with these parameters (see DPObligation).
	// MinGroupSize, RoundTo and MaxGroups do not apply then: groups are
	// released by a noisy threshold instead.
	DP *DPObligation `json:"dp,omitempty"`
	// DifferenceCheck, when set, refuses an exact export whose groups'
	// unit sets differ by fewer than DifferenceK() units from each other or
	// from the analyst's earlier exports over the same tables; the minimum
	// group size then counts distinct units.
	DifferenceCheck *DifferenceCheck `json:"difference_check,omitempty"`
	// ReportSuppressed says how much the site tells about dropped groups
	// ("" is ReportExact).
	ReportSuppressed SuppressedReport `json:"report_suppressed,omitempty"`
}

// Decision is the outcome of one evaluation.
type Decision struct {
	Allow          bool        `json:"allow"`
	Reasons        []string    `json:"reasons"`
	Obligations    Obligations `json:"obligations"`
	BundleRevision string      `json:"bundle_revision"`
	DecisionID     string      `json:"decision_id"` // a fresh UUID per evaluation
	Path           string      `json:"path"`        // always DecisionPath
}

// wireDecision is what a bundle must produce. Pointers tell a missing field
// from a zero one; unknown fields are refused, because an obligation the
// agent does not understand is one it cannot enforce.
type wireDecision struct {
	Allow       *bool            `json:"allow"`
	Reasons     *[]string        `json:"reasons"`
	Obligations *wireObligations `json:"obligations"`
}

type wireObligations struct {
	MinGroupSize *int64        `json:"min_group_size"`
	DenyColumns  []string      `json:"deny_columns"`
	MaxGroups    *int64        `json:"max_groups"`
	RowFilter    *planner.Expr `json:"row_filter"`
	RoundTo      *int64        `json:"round_to"`
	DP           *DPObligation `json:"dp"`

	DifferenceCheck  *wireDifferenceCheck `json:"difference_check"`
	ReportSuppressed *string              `json:"report_suppressed"`
}

type wireDifferenceCheck struct {
	Unit *string `json:"unit"`
	K    *int64  `json:"k"`
}

// decodeDecision checks that v (an OPA result value) is shaped like a
// decision and returns its allow, reasons and obligations.
func decodeDecision(v any) (allow bool, reasons []string, o Obligations, err error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("%w: %v", ErrMalformedDecision, err)
	}
	var w wireDecision
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return false, nil, Obligations{}, fmt.Errorf("%w: %v (got %.200s)", ErrMalformedDecision, err, raw)
	}
	var problems []string
	if w.Allow == nil {
		problems = append(problems, "allow must be a boolean")
	}
	if w.Reasons == nil {
		problems = append(problems, "reasons must be an array of strings")
	}
	if w.Obligations != nil {
		if w.Obligations.MinGroupSize != nil {
			o.MinGroupSize = *w.Obligations.MinGroupSize
		}
		if w.Obligations.MaxGroups != nil {
			o.MaxGroups = *w.Obligations.MaxGroups
		}
		if len(w.Obligations.DenyColumns) > 0 {
			o.DenyColumns = w.Obligations.DenyColumns
		}
		if w.Obligations.RoundTo != nil {
			o.RoundTo = *w.Obligations.RoundTo
		}
		if dp := w.Obligations.DP; dp != nil {
			if err := dp.Validate(); err != nil {
				problems = append(problems, err.Error())
			}
			o.DP = dp
		}
		if dc := w.Obligations.DifferenceCheck; dc != nil {
			o.DifferenceCheck = &DifferenceCheck{}
			if dc.Unit == nil || *dc.Unit == "" {
				problems = append(problems, "obligations.difference_check.unit must name the privacy unit's column")
			} else {
				o.DifferenceCheck.Unit = *dc.Unit
			}
			if dc.K != nil {
				if *dc.K < 0 {
					problems = append(problems, fmt.Sprintf("obligations.difference_check.k is %d, must be >= 0", *dc.K))
				}
				o.DifferenceCheck.K = *dc.K
			}
		}
		if rs := w.Obligations.ReportSuppressed; rs != nil {
			o.ReportSuppressed = SuppressedReport(*rs)
			if !o.ReportSuppressed.valid() || *rs == "" {
				problems = append(problems, fmt.Sprintf("obligations.report_suppressed is %q, must be one of exact, coarse, flag, none", *rs))
			}
		}
		if rf := w.Obligations.RowFilter; rf != nil {
			if err := checkRowFilter(rf); err != nil {
				problems = append(problems, "obligations.row_filter: "+err.Error())
			}
			o.RowFilter = rf
		}
	}
	if w.Allow != nil && *w.Allow {
		// An allow without a minimum group size would export groups of any
		// size; the bundle must say so explicitly (0 or 1).
		if w.Obligations == nil || w.Obligations.MinGroupSize == nil {
			problems = append(problems, "an allowing decision must set obligations.min_group_size")
		}
	}
	if o.MinGroupSize < 0 {
		problems = append(problems, fmt.Sprintf("obligations.min_group_size is %d, must be >= 0", o.MinGroupSize))
	}
	if o.RoundTo < 0 {
		problems = append(problems, fmt.Sprintf("obligations.round_to is %d, must be >= 0", o.RoundTo))
	}
	if o.MaxGroups < 0 {
		problems = append(problems, fmt.Sprintf("obligations.max_groups is %d, must be >= 0", o.MaxGroups))
	}
	if len(problems) > 0 {
		return false, nil, Obligations{}, fmt.Errorf("%w: %s", ErrMalformedDecision, strings.Join(problems, "; "))
	}
	return *w.Allow, *w.Reasons, o, nil
}

// DeniedColumnError reports a sub-plan that uses a column its policy denies.
type DeniedColumnError struct {
	Site   string
	Table  string
	Column string
	Uses   []string // e.g. "group_key", "filter"
}

func (e *DeniedColumnError) Error() string {
	return fmt.Sprintf("site %q: column %q of table %q is denied by policy obligations (used as %s); remove it or ask the site's data officer",
		e.Site, e.Column, e.Table, strings.Join(e.Uses, ", "))
}

// CheckPlan re-checks in Go that sp uses no denied column, whatever the
// bundle decided: defence in depth against a bundle that lists a column in
// obligations.deny_columns but forgets to deny on it. Names compare
// case-insensitively. A star projection is refused when any column is
// denied, since it would include it. Each denied column yields one
// *DeniedColumnError; several are joined with errors.Join.
func (o Obligations) CheckPlan(sp *planner.SubPlan) error {
	if len(o.DenyColumns) == 0 {
		return nil
	}
	denied := make(map[string]bool, len(o.DenyColumns))
	for _, c := range o.DenyColumns {
		denied[strings.ToLower(c)] = true
	}
	var order []string
	byColumn := map[string]*DeniedColumnError{}
	for _, u := range sp.ColumnUses() {
		if u.Use == planner.UseJoinKey {
			continue // joining inside the site reveals nothing by itself (as in the default bundle)
		}
		column := u.Column
		if column == "*" {
			column = "* (all columns, including " + strings.Join(o.DenyColumns, ", ") + ")"
		} else if !denied[strings.ToLower(column)] {
			continue
		}
		key := u.Table + "\x00" + column
		e, ok := byColumn[key]
		if !ok {
			e = &DeniedColumnError{Site: sp.Site, Table: u.Table, Column: column}
			byColumn[key] = e
			order = append(order, key)
		}
		if !slices.Contains(e.Uses, u.Use) {
			e.Uses = append(e.Uses, u.Use)
		}
	}
	errs := make([]error, 0, len(order))
	for _, k := range order {
		errs = append(errs, byColumn[k])
	}
	return errors.Join(errs...)
}
