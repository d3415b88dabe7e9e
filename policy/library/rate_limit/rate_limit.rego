# Per-analyst query rate limit.
#
# OPA's data cannot count, so the site agent does: input.analyst.recent_queries
# is the number of sub-plans this analyst sent to this site in the agent's
# rate window (the last hour), not counting this one. A request that would
# exceed data.fedmesh.settings.rate_limit.max_queries (default 100) is
# denied; an input without the count is denied too (fail closed).
package fedmesh.library.rate_limit

default max_queries := 100

max_queries := data.fedmesh.settings.rate_limit.max_queries

counted if is_number(input.analyst.recent_queries)

deny contains msg if {
	not counted
	msg := sprintf("fedmesh.rate_limit: site %s cannot check the query rate of analyst %s (no recent_queries in the input); upgrade the site agent", [input.site, input.analyst.id])
}

deny contains msg if {
	input.analyst.recent_queries >= max_queries
	msg := sprintf("fedmesh.rate_limit: analyst %s has sent %d queries to site %s in the last hour, the limit is %d; try again later", [input.analyst.id, input.analyst.recent_queries, input.site, max_queries])
}
