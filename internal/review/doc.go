// Package review serves the coordinator's read-only audit review pages
// (/audit/): a timeline of queries from the coordinator's audit log, with
// each site's own records of a query and whether the signed head it sent
// matches its log, filters by analyst, decision, site and time, and the
// chain status of every log it can read.
//
// It owns the pages, their templates and the auditors' browser sessions (a
// bearer token is exchanged once for an HttpOnly cookie). It does not
// authenticate anyone itself — the coordinator's Authenticate decides who
// holds a token — and it never writes to a log.
package review
