// Package coordinator wires the coordinator daemon: analyst authentication,
// planning, fan-out to site agents over mTLS Arrow Flight, merging, the
// optional coordinator policy on the merged result, audit and the HTTP API
// (query, explain, policy explain, and the audit review pages of package
// review mounted under /audit/). It keeps the catalog each site reports,
// to choose the sites a query involves and refuse unknown tables and
// columns before any site is asked.
//
// Its long-lived tasks — the HTTP server, identity upkeep, the coordinator
// policy's watcher and catalog refresh — run under one supervisor (package
// task): a task that fails stops the coordinator, and Run returns its
// error; on shutdown the HTTP server drains first.
//
// It owns the order of one query — plan, fan out, merge, audit, answer —
// and the mapping of failures to what the analyst sees (which site refused
// and why, as an ErrorCode). It does not decide any site's policy: sites
// enforce their own, and a site's refusal is final for the query.
package coordinator
