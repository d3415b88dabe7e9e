// Package explain shows how the coordinator would run a query, without
// running it: the logical plan, each participating site's engine SQL in
// its own dialect (with its bound arguments), the sites left out, and the
// merge plan in words (Explain).
//
// Only the coordinator builds an Explanation (fedctl and tests decode its
// JSON); the site agent must not import this package, which needs every
// renderer. It must not talk to the network or to engines.
package explain
