package flight

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedmesh/fedmesh/flight/ticketpb"
	"github.com/fedmesh/fedmesh/planner"
)

// TicketVersion is the ticket format this package speaks. It follows
// planner.PlanVersion: the ticket carries the SubPlan structure of that
// version.
const TicketVersion = planner.PlanVersion

// MaxTicketSize bounds an encoded ticket. A sub-plan is a small tree; a ticket
// this large is a bug or an attack, and a site refuses it before parsing.
const MaxTicketSize = 1 << 20

// ErrTicketTooLarge is returned (wrapped) for a ticket over MaxTicketSize.
var ErrTicketTooLarge = errors.New("ticket exceeds 1 MiB")

// TicketSizeError is EncodeTicket's error for a ticket over MaxTicketSize;
// it wraps ErrTicketTooLarge.
type TicketSizeError struct {
	Size int // bytes
}

func (e *TicketSizeError) Error() string {
	return fmt.Sprintf("%v: the ticket is %d bytes, over the limit MaxTicketSize = %d bytes", ErrTicketTooLarge, e.Size, MaxTicketSize)
}

// Unwrap returns ErrTicketTooLarge.
func (e *TicketSizeError) Unwrap() error { return ErrTicketTooLarge }

// EncodeTicket serialises a sub-plan into Flight ticket bytes. Op and
// function names are copied as they are; the site validates them. It fails on
// a plan that cannot be represented faithfully (unknown literal kind, an
// output column with both an expression and an aggregate, a nil expression in
// an argument list), on a plan version other than TicketVersion and on a
// ticket over MaxTicketSize.
func EncodeTicket(sp *planner.SubPlan) ([]byte, error) {
	if sp == nil {
		return nil, errors.New("encode ticket: sub-plan is nil")
	}
	if sp.Version != TicketVersion {
		return nil, fmt.Errorf("encode ticket: sub-plan version %d not supported (want %d)", sp.Version, TicketVersion)
	}
	p, err := subPlanToPB(sp)
	if err != nil {
		return nil, fmt.Errorf("encode ticket for query %q site %q: %w", sp.QueryID, sp.Site, err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&ticketpb.Ticket{Version: TicketVersion, Plan: p})
	if err != nil {
		return nil, fmt.Errorf("encode ticket for query %q site %q: %w", sp.QueryID, sp.Site, err)
	}
	if len(b) > MaxTicketSize {
		return nil, fmt.Errorf("encode ticket for query %q site %q: %w", sp.QueryID, sp.Site, &TicketSizeError{Size: len(b)})
	}
	return b, nil
}

// DecodeTicket parses Flight ticket bytes into a sub-plan. It checks the
// ticket's shape (size, version, well-formed values and timestamps) but not
// the plan's meaning: the site calls SubPlan.Validate and its policy.
// Empty repeated fields decode as nil slices.
func DecodeTicket(b []byte) (*planner.SubPlan, error) {
	if len(b) > MaxTicketSize {
		return nil, fmt.Errorf("decode ticket: %d bytes: %w", len(b), ErrTicketTooLarge)
	}
	var t ticketpb.Ticket
	if err := proto.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decode ticket: %w", err)
	}
	if t.GetVersion() != TicketVersion {
		return nil, fmt.Errorf("ticket version %d not supported (want %d)", t.GetVersion(), TicketVersion)
	}
	if t.GetPlan() == nil {
		return nil, errors.New("decode ticket: ticket has no sub-plan")
	}
	sp, err := subPlanFromPB(t.GetPlan())
	if err != nil {
		return nil, fmt.Errorf("decode ticket for query %q: %w", t.GetPlan().GetQueryId(), err)
	}
	sp.Version = int(t.GetVersion())
	return sp, nil
}

func subPlanToPB(sp *planner.SubPlan) (*ticketpb.SubPlan, error) {
	p := &ticketpb.SubPlan{
		QueryId:     sp.QueryID,
		Analyst:     sp.Analyst,
		Roles:       sp.Roles,
		Purpose:     sp.Purpose,
		Site:        sp.Site,
		Kind:        string(sp.Kind),
		Table:       sp.Table,
		Star:        sp.Star,
		Limit:       sp.Limit,
		CountColumn: sp.CountColumn,
		Join:        joinToPB(sp.Join),
		Credential:  sp.Credential,
	}
	if pr := sp.Privacy; pr != nil {
		p.Privacy = &ticketpb.Privacy{Epsilon: pr.Epsilon, Delta: pr.Delta}
	}
	if !sp.Deadline.IsZero() {
		p.Deadline = timestamppb.New(sp.Deadline)
		if err := p.Deadline.CheckValid(); err != nil {
			return nil, fmt.Errorf("deadline: %w", err)
		}
	}
	var err error
	if p.Filter, err = exprToPB(sp.Filter); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if p.GroupBy, err = outputsToPB(sp.GroupBy); err != nil {
		return nil, fmt.Errorf("group_by: %w", err)
	}
	if p.Aggs, err = outputsToPB(sp.Aggs); err != nil {
		return nil, fmt.Errorf("aggs: %w", err)
	}
	return p, nil
}

func subPlanFromPB(p *ticketpb.SubPlan) (*planner.SubPlan, error) {
	sp := &planner.SubPlan{
		QueryID:     p.GetQueryId(),
		Analyst:     p.GetAnalyst(),
		Purpose:     p.GetPurpose(),
		Site:        p.GetSite(),
		Kind:        planner.PlanKind(p.GetKind()),
		Table:       p.GetTable(),
		Star:        p.GetStar(),
		CountColumn: p.GetCountColumn(),
		Join:        joinFromPB(p.GetJoin()),
		Credential:  p.GetCredential(),
	}
	if pr := p.GetPrivacy(); pr != nil {
		sp.Privacy = &planner.PrivacyRequest{Epsilon: pr.GetEpsilon(), Delta: pr.GetDelta()}
	}
	if len(p.GetRoles()) > 0 {
		sp.Roles = p.GetRoles()
	}
	if p.Limit != nil {
		l := p.GetLimit()
		sp.Limit = &l
	}
	if p.GetDeadline() != nil {
		if err := p.GetDeadline().CheckValid(); err != nil {
			return nil, fmt.Errorf("deadline: %w", err)
		}
		sp.Deadline = p.GetDeadline().AsTime()
	}
	var err error
	if sp.Filter, err = exprFromPB(p.GetFilter()); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if sp.GroupBy, err = outputsFromPB(p.GetGroupBy()); err != nil {
		return nil, fmt.Errorf("group_by: %w", err)
	}
	if sp.Aggs, err = outputsFromPB(p.GetAggs()); err != nil {
		return nil, fmt.Errorf("aggs: %w", err)
	}
	return sp, nil
}
