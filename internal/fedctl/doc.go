// Package fedctl implements the fedctl command line: dev certificates
// (certs init, certs inspect), a ready-to-run demo federation (demo init),
// queries and plans against a coordinator (query, explain, policy
// explain), Rego unit tests (policy test) and audit logs (audit verify,
// audit query, audit keygen).
//
// It is a thin client of the other packages and of the coordinator's HTTP
// API; it holds no query, policy or audit logic of its own.
package fedctl
