// Package coordinator wires the coordinator daemon: analyst authentication,
// planning, fan-out to site agents over mTLS Arrow Flight, merging, audit
// and the HTTP API.
//
// It owns the order of one query — plan, fan out, merge, audit, answer —
// and the mapping of failures to what the analyst sees (which site refused
// and why). It does not decide any site's policy: sites enforce their own,
// and a site's refusal is final for the query.
package coordinator
