// Package admission owns a site's admission control in front of its engine
// slots: a bounded queue that is fair across analysts (the analyst served
// least recently goes first, so one analyst's backlog delays another's query
// by at most one slot's worth of work), a queue timeout and a bound on the
// queue's length. A query that cannot be admitted gets a *BusyError with a
// retry-after hint.
//
// It must not know about Flight, gRPC or policy: converting a BusyError to a
// wire status happens at the edge (package flight).
package admission
