package flight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// ActionExplain is the DoAction type of a policy dry run: the body is a
// ticket (an encoded SubPlan), the single result an ExplainResult as JSON.
const ActionExplain = "fedmesh.policy.explain"

// Explainer is the optional ability of a Handler to evaluate a sub-plan's
// policy without running it. The server finds it by type assertion and
// answers ActionExplain with Unimplemented when the Handler lacks it.
type Explainer interface {
	// Explain returns the decision the site would make on sp, or a
	// *PlanError for a malformed plan.
	Explain(ctx context.Context, peer spiffeid.ID, sp *planner.SubPlan) (*ExplainResult, error)
}

// ExplainResult is a site's policy decision on a sub-plan it did not run.
type ExplainResult struct {
	Site           string          `json:"site"`
	Allow          bool            `json:"allow"`
	Reasons        []string        `json:"reasons"`
	Obligations    json.RawMessage `json:"obligations,omitempty"`
	BundleRevision string          `json:"bundle_revision,omitempty"`
	DecisionID     string          `json:"decision_id,omitempty"`
	// EngineSQL is the SQL the site would send its engine, with the
	// policy's row filter applied; empty when denied.
	EngineSQL string `json:"engine_sql,omitempty"`
	// Privacy, for a sub-plan the site would answer with differential
	// privacy, is what it would charge and the noise it would add, with the
	// analyst's budget as it stands (a policy.DPReport as JSON).
	Privacy json.RawMessage `json:"privacy,omitempty"`
	// Error is set by the client when the site could not be asked.
	Error string `json:"error,omitempty"`
}

// DoAction answers ActionExplain and ActionCatalog for an authenticated
// peer (TLS admits only the allowed coordinators).
func (s *Server) DoAction(action *flight.Action, stream flight.FlightService_DoActionServer) error {
	ctx := stream.Context()
	id, err := PeerID(ctx)
	if err != nil {
		s.logger.Warn("refused unauthenticated peer", logkey.Err, err)
		return status.Errorf(codes.Unauthenticated, "no verified SPIFFE ID: %v", err)
	}
	switch action.GetType() {
	case ActionExplain:
	case ActionCatalog:
		return s.doCatalog(ctx, id, stream)
	default:
		return status.Errorf(codes.Unimplemented, "action %q is not supported (only %q and %q)", action.GetType(), ActionExplain, ActionCatalog)
	}
	ex, ok := s.h.(Explainer)
	if !ok {
		return status.Error(codes.Unimplemented, "this site does not explain policy decisions")
	}
	sp, err := DecodeTicket(action.GetBody())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	res, err := ex.Explain(ctx, id, sp)
	if err != nil {
		st := handlerStatus(err, sp.QueryID)
		s.logger.Info("explain failed", logkey.Peer, id.String(), logkey.QueryID, sp.QueryID, logkey.Err, err)
		return st.Err()
	}
	body, err := json.Marshal(res)
	if err != nil {
		return status.Errorf(codes.Internal, "encode explain result: %v", err)
	}
	return stream.Send(&flight.Result{Body: body})
}

// Explain asks every site in plans for its policy decision without running
// anything. Unlike FanOut, one site's failure does not stop the others: a
// site that cannot be asked has Error set. Results come in site-name order.
func (c *Client) Explain(ctx context.Context, plans map[string]*planner.SubPlan) []ExplainResult {
	sites := make([]string, 0, len(plans))
	for site := range plans {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	out := make([]ExplainResult, len(sites))
	var wg sync.WaitGroup
	for i, site := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.explain(ctx, site, plans[site])
			if err != nil {
				r = &ExplainResult{Site: site, Reasons: []string{}, Error: siteError(site, err).Error()}
			}
			out[i] = *r
		}()
	}
	wg.Wait()
	return out
}

func (c *Client) explain(ctx context.Context, site string, sp *planner.SubPlan) (*ExplainResult, error) {
	sc := c.sites[site]
	if sc == nil {
		return nil, errors.New("no flight target is configured for this site")
	}
	body, err := EncodeTicket(sp)
	if err != nil {
		return nil, err
	}
	return doJSONAction(ctx, sc.flight, ActionExplain, body, site, "explain result",
		func(r *ExplainResult) string { return r.Site })
}

// doJSONAction runs a Flight action whose answer is one JSON message
// labelled with the site that answered, checks the label, and drains the
// stream so it closes cleanly.
func doJSONAction[T any](ctx context.Context, fc flight.Client, typ string, body []byte, site, what string, label func(*T) string) (*T, error) {
	stream, err := fc.DoAction(ctx, &flight.Action{Type: typ, Body: body})
	if err != nil {
		return nil, err
	}
	msg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var r T
	if err := json.Unmarshal(msg.GetBody(), &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	if got := label(&r); got != site {
		return nil, fmt.Errorf("%s is labelled as coming from site %q", what, got)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	return &r, nil
}
