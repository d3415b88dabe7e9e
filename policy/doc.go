// Package policy decides, at a site (and optionally at the coordinator),
// whether a sub-plan may run and what its result must satisfy before it
// leaves.
//
// It owns:
//   - the policy input document (Input, built from a planner.SubPlan by
//     NewInput; ResultInput for a coordinator policy) and the decision
//     document (Decision, Obligations); both are versioned contracts that
//     data officers write Rego against, described in README.md and as JSON
//     Schemas in schema/;
//   - loading standard OPA bundles — a directory or a .tar.gz (LoadPath,
//     LoadTarball), or the embedded default (LoadDefault) — with OPA's own
//     bundle reader, verifying OPA bundle signatures when configured
//     (NewVerificationConfig), preparing data.fedmesh.decision once, and a
//     startup self-check against sample inputs;
//   - reloading: a Holder whose current Policy is swapped atomically, fed by
//     Watch from a PathSource (directory or tarball, polled by content hash)
//     or an HTTPSource (bundle server, polled with ETags); a bundle that fails
//     to load, verify or self-check is refused and the last good one kept;
//   - evaluation (Policy.Evaluate, Holder.Evaluate), safe for concurrent
//     use, and decision records (Decision.Record) for the audit log;
//   - every obligation's meaning, under one vocabulary (Obligation): on a
//     sub-plan, ApplyToPlan (denied columns re-checked in Go, the row
//     filter, rows under a minimum group size, the site-only unit set of a
//     difference check) and CheckDataErrors (expressions an engine can fail
//     on depending on the data); on an exact result, ApplyToResult (minimum
//     group size in rows or distinct units, max groups, the difference check
//     through a Differ such as privacy/guard.Store, rounding, the
//     suppressed-group report), vectorised over Arrow; on a DP result,
//     ApplyDP; at the coordinator, CheckMerged and CombineSuppressed;
//   - running Rego unit tests with OPA's tester (RunTests), and the policy
//     library in library/ (plain OPA, tested by the stock opa binary).
//
// It must not fail open. No bundle, an unsigned or tampered bundle when
// signatures are required, a bundle that does not compile or lacks
// data.fedmesh.decision, an evaluation error, an undefined decision, or a
// result not shaped like a decision all mean deny. Apart from fetching
// bundles from a configured bundle server it must not talk to the network,
// never to engines, and its errors never carry values of suppressed rows.
package policy
