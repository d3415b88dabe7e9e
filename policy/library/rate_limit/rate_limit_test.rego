package library_test.rate_limit

import data.fedmesh.library.rate_limit
import data.library_test.fixtures

with_recent(n) := json.patch(fixtures.aggregate, [{"op": "replace", "path": "/analyst/recent_queries", "value": n}])

test_under_limit_passes if {
	count(rate_limit.deny) == 0 with input as with_recent(2) with data.fedmesh.settings.rate_limit.max_queries as 3
}

test_at_limit_denied if {
	d := rate_limit.deny with input as with_recent(3) with data.fedmesh.settings.rate_limit.max_queries as 3
	d == {"fedmesh.rate_limit: analyst alice has sent 3 queries to site a in the last hour, the limit is 3; try again later"}
}

test_default_limit_is_100 if {
	count(rate_limit.deny) == 0 with input as with_recent(99)
	count(rate_limit.deny) == 1 with input as with_recent(100)
}

test_missing_count_denied if {
	d := rate_limit.deny with input as json.remove(fixtures.aggregate, ["analyst/recent_queries"])
	count(d) == 1
	some msg in d
	contains(msg, "no recent_queries")
}
