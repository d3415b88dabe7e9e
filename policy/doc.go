// Package policy decides, at a site, whether a sub-plan may run and what its
// result must satisfy before it leaves the site.
//
// It owns:
//   - the policy input document (Input, built from a planner.SubPlan by
//     NewInput) and the decision document (Decision, Obligations); both are
//     versioned contracts that data officers write Rego against, described in
//     README.md;
//   - loading an OPA bundle from a directory (Load) or the embedded default
//     bundle (LoadDefault), preparing data.fedmesh.decision once, and a
//     startup self-check against sample inputs;
//   - evaluation (Policy.Evaluate), safe for concurrent use;
//   - obligation enforcement: Obligations.CheckPlan re-checks denied columns
//     in Go, and Enforce drops groups smaller than the minimum group size from
//     Arrow result batches, vectorised with arrow compute.
//
// It must not fail open. No bundle, a bundle that does not compile or lacks
// data.fedmesh.decision, an evaluation error, an undefined decision, or a
// result not shaped like a decision all mean deny. It must not talk to the
// network or to engines, and its errors never carry values of suppressed
// rows.
package policy
