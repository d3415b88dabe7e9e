package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedmesh/fedmesh/planner"
)

// errSelfCheck marks a failed startup self-check.
var errSelfCheck = errors.New("self-check failed")

// Sample sub-plans for the startup self-check. They use made-up names so
// that no real table's policy is exercised by accident.
func sampleAggregatePlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion,
		QueryID: "self-check-aggregate",
		Analyst: "self-check",
		Roles:   []string{"analyst"},
		Purpose: "policy startup self-check",
		Site:    "self-check",
		Kind:    planner.KindAggregate,
		Table:   "self_check",
		Filter:  planner.Call(planner.OpGt, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 0})),
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
		},
		CountColumn: "a1",
	}
}

func sampleRowsPlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion,
		QueryID: "self-check-rows",
		Analyst: "self-check",
		Roles:   []string{"analyst"},
		Purpose: "policy startup self-check",
		Site:    "self-check",
		Kind:    planner.KindRows,
		Table:   "self_check",
		Star:    true,
	}
}

// selfCheck evaluates the sample inputs. Every bundle must return a
// well-formed decision for both. The default bundle must also allow the
// aggregate and deny the raw rows; a custom bundle that allows raw rows is
// only warned about, since that is its data officer's call.
func (p *Policy) selfCheck(ctx context.Context, isDefault bool) error {
	agg, _, _, err := p.eval(ctx, NewInput(sampleAggregatePlan()))
	if err != nil {
		return fmt.Errorf("%w: sample aggregate input: %w", errSelfCheck, err)
	}
	rows, _, _, err := p.eval(ctx, NewInput(sampleRowsPlan()))
	if err != nil {
		return fmt.Errorf("%w: sample raw-rows input: %w", errSelfCheck, err)
	}
	if isDefault {
		if !agg {
			return fmt.Errorf("%w: the default bundle denied the sample aggregate input", errSelfCheck)
		}
		if rows {
			return fmt.Errorf("%w: the default bundle allowed the sample raw-rows input", errSelfCheck)
		}
	} else if rows {
		p.logger.Warn("policy bundle allows raw rows (SELECT *) to leave the site; check that this is intended")
	}
	return nil
}
