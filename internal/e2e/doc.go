// Package e2e holds fedmesh's end-to-end tests: real site agents and a real
// coordinator on 127.0.0.1 over mTLS Arrow Flight with SPIFFE identities,
// real OPA bundles, DuckDB engines and audit logs, checked against DuckDB's
// own answers over the union of the sites' rows.
package e2e
