// Package e2e holds fedmesh's end-to-end tests: real site agents and a real
// coordinator on 127.0.0.1 over mTLS Arrow Flight with SPIFFE identities
// (files, SPIRE, Vault PKI), real OPA bundles, DuckDB and server-backed
// engines and audit logs, checked against DuckDB's own answers over the
// union of the sites' rows; plus killed agents, bundle reloads, SVID
// rotation, trust federation and the review page in a browser. Tests that
// need a server or a browser that is not installed skip.
package e2e
