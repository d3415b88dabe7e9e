// Package flight owns the coordinator↔agent wire contract and both ends of
// it: the versioned Flight ticket that carries a planner.SubPlan
// (ticketpb/ticket.proto, EncodeTicket, DecodeTicket), the site agent's
// Arrow Flight server (Server: DoGet runs a sub-plan; the DoAction actions
// ActionExplain and ActionCatalog answer a policy dry run and the site's
// catalog) and the coordinator's client (Client.FanOut, one DoGet per
// site, first failure cancels the rest; Client.Explain and Client.Catalog).
//
// Identity comes from the transport: both ends run mTLS configured from an
// identity source (package certs builds the tls.Configs with go-spiffe
// authorizers). The server hands its Handler the peer's verified SPIFFE ID
// and refuses calls without one; the client only dials with TLS that
// verifies the site.
//
// This package must not decide policy. It does not inspect plans beyond
// decoding them, does not filter or audit results, and does not choose what
// an error may reveal: a Handler has already enforced policy and audited
// before it returns batches, and the server only streams them. Handler
// errors are mapped to gRPC codes here (DeniedError → PermissionDenied with
// the reasons as an ErrorInfo detail, PlanError → InvalidArgument, anything
// else → Internal with a generic message, because an engine error may quote
// data).
package flight
