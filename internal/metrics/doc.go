// Package metrics owns fedmesh's Prometheus metrics: one registry per
// daemon (never the global default registry), the collectors of the
// coordinator and of a site agent, and the HTTP server that exposes them.
//
// Labels are bounded by configuration (site names, declared tables,
// outcomes): never query ids, SQL, analyst ids or anything an analyst
// chooses. The metric names and their meaning are listed in
// docs/metrics.md; a change here changes that table.
//
// It must not import the planner's SQL front end (the site agent links it).
package metrics
