// Package fedctl implements the fedctl command line: dev certificates
// (certs), a ready-to-run demo federation (demo init), queries against a
// coordinator (query) and audit log verification (audit verify).
//
// It is a thin client of the other packages and of the coordinator's HTTP
// API; it holds no query, policy or audit logic of its own.
package fedctl
