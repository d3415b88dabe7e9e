# fedmesh default site policy.
#
# The site agent evaluates data.fedmesh.decision once per sub-plan. The input
# document is described in policy/README.md. Everything not explicitly allowed
# is denied: allow is true only for a version-1 aggregate plan that no deny
# rule objects to. Every deny reason starts with the name of the rule that
# produced it so that analysts and data officers can find it here.
package fedmesh

# The policy input version this bundle reads.
supported_input_version := 1

# ---------------------------------------------------------------------------
# Settings (data.json), with safe defaults when a key is absent.

default min_group_size_setting := 10

min_group_size_setting := data.fedmesh.min_group_size

# Column names are compared case-insensitively: an identifier spelled with
# different case must not slip past the list.
denied_column_names contains lower(c) if some c in data.fedmesh.denied_columns

default max_groups_obligation := {}

max_groups_obligation := {"max_groups": data.fedmesh.max_groups}

# ---------------------------------------------------------------------------
# Names used in messages.

default site_name := "(unnamed site)"

site_name := input.site if {
	is_string(input.site)
	input.site != ""
}

default plan_kind := "(missing)"

plan_kind := input.plan.kind

default input_version := "(missing)"

input_version := input.version

# ---------------------------------------------------------------------------
# Deny rules. Each produces one message per problem, prefixed with its name.

input_version_ok if input.version == supported_input_version

deny contains msg if {
	not input_version_ok
	msg := sprintf(
		"fedmesh.input_version: policy input version %v is not supported at site %s (this bundle reads version %d); upgrade the site agent or the policy bundle so that they agree",
		[input_version, site_name, supported_input_version],
	)
}

known_kinds := {"aggregate", "rows"}

deny contains msg if {
	not input.plan.kind in known_kinds
	msg := sprintf(
		"fedmesh.plan_kind: plan kind %v is not known to the policy of site %s; only aggregate plans can be exported",
		[plan_kind, site_name],
	)
}

default rows_shape := "a projection without GROUP BY"

rows_shape := "SELECT *" if input.plan.star == true

deny contains msg if {
	input.plan.kind == "rows"
	msg := sprintf(
		"fedmesh.aggregate_only: site %s exports only aggregates; raw rows (%s) may not leave the site — group by permitted columns and use COUNT/SUM/AVG/MIN/MAX",
		[site_name, rows_shape],
	)
}

# denied_uses[table][column] is the set of uses of a denied column. Joining
# on an identifier inside the site (use "join_key") reveals nothing by
# itself, so a denied column may still be a join key.
denied_uses[u.table][u.column] contains u.use if {
	some u in input.plan.columns
	u.use != "join_key"
	lower(u.column) in denied_column_names
}

deny contains msg if {
	some table, columns in denied_uses
	some column, uses in columns
	msg := sprintf(
		"fedmesh.denied_columns: column %q of table %s may not be used (as %s); remove it or ask site %s's data officer",
		[column, table, concat(", ", sort(uses)), site_name],
	)
}

# ---------------------------------------------------------------------------
# The decision.

default allow := false

allow if {
	input_version_ok
	input.plan.kind == "aggregate"
	count(deny) == 0
}

default reasons := ["fedmesh.default_deny: no rule allowed this request; only aggregate plans over permitted columns can be exported"]

reasons := sort(deny) if count(deny) > 0

reasons := [sprintf(
	"fedmesh.allow: aggregate over %s uses only permitted columns; groups of fewer than %d rows are suppressed at site %s",
	[concat(", ", input.plan.tables), min_group_size_setting, site_name],
)] if allow

obligations := object.union(
	object.union(
		{
			"min_group_size": min_group_size_setting,
			"deny_columns": sort(denied_column_names),
		},
		max_groups_obligation,
	),
	dp_obligation,
)

decision := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
}
