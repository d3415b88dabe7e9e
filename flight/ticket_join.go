package flight

import (
	"github.com/fedmesh/fedmesh/flight/ticketpb"
	"github.com/fedmesh/fedmesh/planner"
)

func joinToPB(j *planner.Join) *ticketpb.Join {
	if j == nil {
		return nil
	}
	p := &ticketpb.Join{Table: j.Table, Kind: string(j.Kind)}
	for _, k := range j.Keys {
		p.Keys = append(p.Keys, &ticketpb.JoinKey{Left: k.Left, Right: k.Right})
	}
	return p
}

func joinFromPB(p *ticketpb.Join) *planner.Join {
	if p == nil {
		return nil
	}
	j := &planner.Join{Table: p.GetTable(), Kind: planner.JoinKind(p.GetKind())}
	for _, k := range p.GetKeys() {
		j.Keys = append(j.Keys, planner.JoinKey{Left: k.GetLeft(), Right: k.GetRight()})
	}
	return j
}
