# MIN and MAX only on non-identifying columns: the minimum or maximum of an
# identifying column (a birth date, a salary, an exact age) reveals one
# person's value even in a large group.
#
# data.fedmesh.settings.minmax_identifying.columns: [column, ...]
package fedmesh.library.minmax_identifying

identifying := {lower(c) | some c in data.fedmesh.settings.minmax_identifying.columns}

deny contains msg if {
	some u in input.plan.columns
	u.use == "aggregate_arg"
	u.function in {"min", "max"}
	lower(u.column) in identifying
	msg := sprintf("fedmesh.minmax_identifying: %s(%s) would reveal one individual's value at site %s; use AVG or a coarser grouping instead", [upper(u.function), u.column, input.site])
}
