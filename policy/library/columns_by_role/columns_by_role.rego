# Column allow/deny lists by role.
#
# data.fedmesh.settings.columns_by_role:
#   denied:          columns nobody may use, in any role (also sent as the
#                    deny_columns obligation, so the agent re-checks in Go)
#   allowed_by_role: {role: [column, ...]}; when set, a column may be used
#                    only if one of the analyst's roles lists it ("*" lists
#                    every column not denied)
# Column names compare case-insensitively.
package fedmesh.library.columns_by_role

default settings := {}

settings := data.fedmesh.settings.columns_by_role

denied := {lower(c) | some c in object.get(settings, "denied", [])}

restricted if "allowed_by_role" in object.keys(settings)

allowed := {lower(c) |
	some role in input.analyst.roles
	some c in object.get(settings.allowed_by_role, role, [])
}

obligations := {"deny_columns": sort(denied)}

# The real columns a plan touches ("*" of SELECT * is aggregate_only's job).
used contains u if {
	some u in input.plan.columns
	u.column != "*"
}

deny contains msg if {
	some u in used
	lower(u.column) in denied
	msg := sprintf("fedmesh.columns_by_role: column %q of table %s may not be used (as %s) by anyone at site %s", [u.column, u.table, u.use, input.site])
}

deny contains msg if {
	restricted
	not "*" in allowed
	some u in used
	not lower(u.column) in denied
	not lower(u.column) in allowed
	msg := sprintf("fedmesh.columns_by_role: column %q of table %s is not allowed for roles %v at site %s; ask the site's data officer for a role that may use it", [u.column, u.table, input.analyst.roles, input.site])
}
