// Package agent wires a site agent — identity, engines (one, or several
// profiles routed per sub-plan, with Vault-held credentials read once at
// start), policy with hot reload, audit and the Flight server — and runs
// its long-lived tasks under one supervisor (package task): the Flight
// server, identity upkeep and the policy watcher. A task that fails stops
// the agent, and Run returns its error.
//
// It implements the per-sub-plan pipeline
//
//	validate → admit → policy → render → engine → enforce obligations → audit (fsync) → export
//
// where admit (intake.go) refuses what no policy should have to see: a
// table the site does not declare (a site declaring none serves nothing),
// a plan over planner.CheckLimits, "${" in a name, a missing or far
// deadline, and — for a run, not a dry run — a query id already presented
// (the durable replay guard, privacy/guard, in site-<name>.guard).
//
// and the two Flight actions beside it: a policy dry run (explain: the
// decision and the engine SQL, nothing runs) and the site's logical
// catalog (its tables as the federation names them, mapped to physical
// names in rendering).
//
// It owns the order of those steps, which is where the site's guarantees
// live: nothing is exported before its audit record is durable, and any
// policy error, missing decision or audit failure means no export. It does
// not parse SQL (it only renders sub-plans) and does not decide policy.
package agent
