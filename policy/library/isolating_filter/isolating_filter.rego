# Refuse filters that isolate one row: an equality (=, IN) on an identifier
# column selects a single person, whose value any aggregate then reveals.
#
# data.fedmesh.settings.isolating_filter.identifiers: [column, ...]
package fedmesh.library.isolating_filter

identifiers := {lower(c) | some c in data.fedmesh.settings.isolating_filter.identifiers}

deny contains msg if {
	input.plan.filter != null
	walk(input.plan.filter, [_, node])
	is_object(node)
	node.op in {"eq", "in"}
	some arg in node.args
	arg.op == "column"
	lower(arg.column) in identifiers
	msg := sprintf("fedmesh.isolating_filter: a filter of the form %s = … on identifier column %s would isolate one row at site %s; filter on a coarser attribute", [arg.column, arg.column, input.site])
}
