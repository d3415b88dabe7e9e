// Package agent wires a site agent: identity, engine, policy, audit and the
// Flight server, and implements the per-sub-plan pipeline
//
//	validate → policy → render → engine → enforce obligations → audit (fsync) → export
//
// It owns the order of those steps, which is where the site's guarantees
// live: nothing is exported before its audit record is durable, and any
// policy error, missing decision or audit failure means no export. It does
// not parse SQL (it only renders sub-plans) and does not decide policy.
package agent
