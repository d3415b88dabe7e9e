package flight

import (
	"errors"
	"fmt"

	"github.com/fedmesh/fedmesh/flight/ticketpb"
	"github.com/fedmesh/fedmesh/planner"
)

// exprToPB converts an expression tree. A nil root stays nil (an absent
// filter); a nil node inside Args is an error because the wire form cannot
// say "missing argument" and the site would see a shorter list.
func exprToPB(e *planner.Expr) (*ticketpb.Expr, error) {
	if e == nil {
		return nil, nil
	}
	p := &ticketpb.Expr{Op: string(e.Op), Column: e.Column}
	if e.Value != nil {
		v, err := valueToPB(*e.Value)
		if err != nil {
			return nil, fmt.Errorf("op %q: %w", e.Op, err)
		}
		p.Value = v
	}
	if len(e.Args) > 0 {
		p.Args = make([]*ticketpb.Expr, len(e.Args))
		for i, a := range e.Args {
			if a == nil {
				return nil, fmt.Errorf("op %q: argument %d is nil", e.Op, i)
			}
			pa, err := exprToPB(a)
			if err != nil {
				return nil, err
			}
			p.Args[i] = pa
		}
	}
	return p, nil
}

func exprFromPB(p *ticketpb.Expr) (*planner.Expr, error) {
	if p == nil {
		return nil, nil
	}
	e := &planner.Expr{Op: planner.Op(p.GetOp()), Column: p.GetColumn()}
	if p.GetValue() != nil {
		v, err := valueFromPB(p.GetValue())
		if err != nil {
			return nil, fmt.Errorf("op %q: %w", p.GetOp(), err)
		}
		e.Value = &v
	}
	if len(p.GetArgs()) > 0 {
		e.Args = make([]*planner.Expr, len(p.GetArgs()))
		for i, pa := range p.GetArgs() {
			if pa == nil {
				return nil, fmt.Errorf("op %q: argument %d is nil", p.GetOp(), i)
			}
			a, err := exprFromPB(pa)
			if err != nil {
				return nil, err
			}
			e.Args[i] = a
		}
	}
	return e, nil
}

func valueToPB(v planner.Value) (*ticketpb.Value, error) {
	switch v.Kind {
	case planner.KindNull:
		return &ticketpb.Value{Kind: &ticketpb.Value_NullValue{NullValue: true}}, nil
	case planner.KindBool:
		return &ticketpb.Value{Kind: &ticketpb.Value_BoolValue{BoolValue: v.Bool}}, nil
	case planner.KindInt:
		return &ticketpb.Value{Kind: &ticketpb.Value_Int64Value{Int64Value: v.Int}}, nil
	case planner.KindFloat:
		return &ticketpb.Value{Kind: &ticketpb.Value_DoubleValue{DoubleValue: v.Float}}, nil
	case planner.KindString:
		return &ticketpb.Value{Kind: &ticketpb.Value_StringValue{StringValue: v.Str}}, nil
	default:
		return nil, fmt.Errorf("literal kind %q is not supported", v.Kind)
	}
}

func valueFromPB(p *ticketpb.Value) (planner.Value, error) {
	switch k := p.GetKind().(type) {
	case *ticketpb.Value_NullValue:
		if !k.NullValue {
			return planner.Value{}, errors.New("literal null_value must be true")
		}
		return planner.Value{Kind: planner.KindNull}, nil
	case *ticketpb.Value_BoolValue:
		return planner.Value{Kind: planner.KindBool, Bool: k.BoolValue}, nil
	case *ticketpb.Value_Int64Value:
		return planner.Value{Kind: planner.KindInt, Int: k.Int64Value}, nil
	case *ticketpb.Value_DoubleValue:
		return planner.Value{Kind: planner.KindFloat, Float: k.DoubleValue}, nil
	case *ticketpb.Value_StringValue:
		return planner.Value{Kind: planner.KindString, Str: k.StringValue}, nil
	default:
		return planner.Value{}, errors.New("literal has no value")
	}
}

func outputsToPB(cols []planner.OutputColumn) ([]*ticketpb.OutputColumn, error) {
	if len(cols) == 0 {
		return nil, nil
	}
	out := make([]*ticketpb.OutputColumn, len(cols))
	for i, c := range cols {
		p := &ticketpb.OutputColumn{Name: c.Name}
		switch {
		case c.Expr != nil && c.Agg != nil:
			return nil, fmt.Errorf("output %q sets both an expression and an aggregate", c.Name)
		case c.Expr != nil:
			e, err := exprToPB(c.Expr)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", c.Name, err)
			}
			p.Def = &ticketpb.OutputColumn_Expr{Expr: e}
		case c.Agg != nil:
			arg, err := exprToPB(c.Agg.Arg)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", c.Name, err)
			}
			p.Def = &ticketpb.OutputColumn_Agg{Agg: &ticketpb.PartialAgg{Func: string(c.Agg.Func), Arg: arg}}
		}
		out[i] = p
	}
	return out, nil
}

func outputsFromPB(ps []*ticketpb.OutputColumn) ([]planner.OutputColumn, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]planner.OutputColumn, len(ps))
	for i, p := range ps {
		c := planner.OutputColumn{Name: p.GetName()}
		switch d := p.GetDef().(type) {
		case *ticketpb.OutputColumn_Expr:
			if d.Expr == nil {
				return nil, fmt.Errorf("output %q: expression is empty", c.Name)
			}
			e, err := exprFromPB(d.Expr)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", c.Name, err)
			}
			c.Expr = e
		case *ticketpb.OutputColumn_Agg:
			if d.Agg == nil {
				return nil, fmt.Errorf("output %q: aggregate is empty", c.Name)
			}
			arg, err := exprFromPB(d.Agg.GetArg())
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", c.Name, err)
			}
			c.Agg = &planner.PartialAgg{Func: planner.AggFunc(d.Agg.GetFunc()), Arg: arg}
		}
		out[i] = c
	}
	return out, nil
}
