# Composes the library policies present in a bundle into one decision.
#
# A site bundle that uses the library contains this file, the library
# policies it wants (each a package under fedmesh.library), its settings in
# data.json under fedmesh.settings, and a one-line entry point:
#
#     package fedmesh
#     decision := data.fedmesh.compose.decision
#
# Every deny message of every present policy is a reason; obligations are
# combined so that the strictest wins: the largest min_group_size and
# round_to, the smallest max_groups, the union of deny_columns, and the AND
# of all row filters. With no policy objecting, an aggregate plan of a known
# input version is allowed. Nothing else is: no plan kind other than
# "aggregate" or "rows" and no input version other than 1.
package fedmesh.compose

supported_input_version := 1

default site_name := "(unnamed site)"

site_name := input.site if {
	is_string(input.site)
	input.site != ""
}

deny contains msg if {
	input.version != supported_input_version
	msg := sprintf("fedmesh.input_version: policy input version %v is not supported at site %s (the library reads version %d)", [object.get(input, "version", "(missing)"), site_name, supported_input_version])
}

deny contains msg if {
	not input.version
	msg := sprintf("fedmesh.input_version: the policy input has no version at site %s", [site_name])
}

known_kind if input.plan.kind in {"aggregate", "rows"}

deny contains msg if {
	not known_kind
	msg := sprintf("fedmesh.plan_kind: plan kind %v is not known to the policy of site %s", [object.get(object.get(input, "plan", {}), "kind", "(missing)"), site_name])
}

# Deny messages of every library policy in the bundle.
deny contains msg if {
	some name
	some msg in data.fedmesh.library[name].deny
}

default allow := false

allow if count(deny) == 0

# contributions(key) lists the value every present policy gives for
# obligations[key]. When none sets min_group_size, the safe default 10 holds.
contributions(key) := [v | some name; v := data.fedmesh.library[name].obligations[key]]

default min_group_size := 10

min_group_size := max(contributions("min_group_size")) if count(contributions("min_group_size")) > 0

deny_columns := sort({lower(c) | some cols in contributions("deny_columns"); some c in cols})

row_filters := contributions("row_filter")

optional contains {"max_groups": min(contributions("max_groups"))} if count(contributions("max_groups")) > 0

optional contains {"round_to": max(contributions("round_to"))} if count(contributions("round_to")) > 0

optional contains {"row_filter": row_filters[0]} if count(row_filters) == 1

optional contains {"row_filter": {"op": "and", "args": row_filters}} if count(row_filters) > 1

obligations := object.union_n(array.concat(
	[{"min_group_size": min_group_size, "deny_columns": deny_columns}],
	[o | some o in optional],
))

default reasons := []

reasons := sort(deny) if count(deny) > 0

reasons := [sprintf("fedmesh.allow: no library policy of site %s objects to this request", [site_name])] if allow

decision := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
}
