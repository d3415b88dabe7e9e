# MIN and MAX only on non-identifying columns: the minimum or maximum of an
# identifying or sensitive column (a birth date, a salary, an exact age), or
# of any expression over one, reveals one person's value even in a large
# group. A percentile arrives as a quantile sketch, which carries every value
# of the group to ±1% (and the policy input does not say which percentile),
# so it is refused as well unless the column is listed in quantile_allowed.
#
# data.fedmesh.settings.minmax_identifying.columns: [column, ...]
# data.fedmesh.settings.minmax_identifying.quantile_allowed: [column, ...] (optional)
package fedmesh.library.minmax_identifying

identifying := {lower(c) | some c in data.fedmesh.settings.minmax_identifying.columns}

quantile_allowed := {lower(c) | some c in data.fedmesh.settings.minmax_identifying.quantile_allowed}

# bare(name) is the column of a join plan's "table.column", else name.
bare(name) := substring(name, i + 1, -1) if {
	i := indexof(name, ".")
	i > 0
	i < count(name) - 1
} else := name

# uses contains [function, column] from plan.columns and plan.aggregates
# (a bare column or any column of the argument expression).
uses contains [u.function, u.column] if {
	some u in input.plan.columns
	u.use == "aggregate_arg"
	u.function in {"min", "max", "quantile_sketch"}
}

uses contains [a.function, bare(name)] if {
	some a in input.plan.aggregates
	a.function in {"min", "max", "quantile_sketch"}
	some name in ({a.column} | {n.column | walk(object.get(a, "arg", null), [_, n]); is_object(n); n.op == "column"})
}

deny contains msg if {
	some [fn, column] in uses
	fn in {"min", "max"}
	lower(column) in identifying
	msg := sprintf("fedmesh.minmax_identifying: %s(%s) would reveal one individual's value at site %s; use AVG or a coarser grouping instead", [upper(fn), column, input.site])
}

deny contains msg if {
	some [fn, column] in uses
	fn == "quantile_sketch"
	lower(column) in identifying
	not lower(column) in quantile_allowed
	msg := sprintf("fedmesh.minmax_identifying: a percentile of %s would reveal individual values at site %s; use AVG, or ask the data officer to list %s in minmax_identifying.quantile_allowed", [column, input.site, column])
}
