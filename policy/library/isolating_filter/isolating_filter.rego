# Refuse conditions that isolate people, in the filter and inside aggregates.
#
#  - fedmesh.isolating_filter: any comparison (=, <>, <, >, IN, BETWEEN,
#    LIKE, …) on an identifier column anywhere in the filter, even inside
#    arithmetic or CAST — an equality, a narrow range or a pattern selects
#    named rows. IS [NOT] NULL directly on the column is allowed.
#  - fedmesh.isolating_filter: a filter that mentions two or more distinct
#    quasi-identifiers (country = 'DE' AND birth_year = 1980), in AND, OR,
#    NOT or any other combination: together they narrow to a few people,
#    and NOT (…) is the complement a differencing attack pairs with the
#    unfiltered query.
#  - fedmesh.isolating_aggregate: a condition (a predicate, a CASE WHEN, a
#    divisor) on an identifier or quasi-identifier inside an aggregate's
#    argument: SUM(CASE WHEN birth_year = 1980 AND zip = '10115' THEN
#    amount END) is one person's amount in a group of any size.
#
# data.fedmesh.settings.isolating_filter.identifiers: [column, ...]
# data.fedmesh.settings.isolating_filter.quasi_identifiers: [column, ...] (optional)
#
# Column names compare case-insensitively; in a join plan "table.column"
# matches a listed "column".
package fedmesh.library.isolating_filter

identifiers := {lower(c) | some c in data.fedmesh.settings.isolating_filter.identifiers}

quasi_identifiers := {lower(c) | some c in data.fedmesh.settings.isolating_filter.quasi_identifiers}

# bare(name) is the column of a join plan's "table.column", else name.
bare(name) := substring(name, i + 1, -1) if {
	i := indexof(name, ".")
	i > 0
	i < count(name) - 1
} else := name

is_identifier(name) if lower(bare(name)) in identifiers

is_quasi_identifier(name) if lower(bare(name)) in quasi_identifiers

isolating(name) if is_identifier(name)

isolating(name) if is_quasi_identifier(name)

comparison_ops := {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between", "like", "not_like"}

op_symbols := {
	"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "IN", "not_in": "NOT IN",
	"between": "BETWEEN", "like": "LIKE", "not_like": "NOT LIKE",
}

filter_nodes[p] := n if {
	input.plan.filter != null
	walk(input.plan.filter, [p, n])
	is_object(n)
	is_string(n.op)
}

# identifier_refs contains [path, column] for every identifier column in the filter.
identifier_refs contains [p, n.column] if {
	some p, n in filter_nodes
	n.op == "column"
	is_identifier(n.column)
}

null_tested(p) if {
	count(p) >= 2
	filter_nodes[array.slice(p, 0, count(p) - 2)].op in {"is_null", "is_not_null"}
}

# comparison_of(p) are the comparison nodes above (or at) path p.
comparison_of(p) := {q |
	some q, n in filter_nodes
	n.op in comparison_ops
	count(q) < count(p)
	array.slice(p, 0, count(q)) == q
}

deny contains msg if {
	some [p, column] in identifier_refs
	some q in comparison_of(p)
	msg := sprintf("fedmesh.isolating_filter: a filter of the form %s %s … on identifier column %s would isolate one row at site %s; filter on a coarser attribute", [column, op_symbols[filter_nodes[q].op], column, input.site])
}

deny contains msg if {
	some [p, column] in identifier_refs
	count(comparison_of(p)) == 0
	not null_tested(p)
	msg := sprintf("fedmesh.isolating_filter: the filter uses identifier column %s, which would isolate one row at site %s; filter on a coarser attribute", [column, input.site])
}

filter_quasi_identifiers := {lower(n.column) |
	some n in filter_nodes
	n.op == "column"
	is_quasi_identifier(n.column)
}

deny contains msg if {
	count(filter_quasi_identifiers) > 1
	msg := sprintf("fedmesh.isolating_filter: the filter combines quasi-identifiers %s, which together can narrow a group to one person at site %s; filter on at most one of them and group by the others, where the minimum group size applies", [concat(", ", sort(filter_quasi_identifiers)), input.site])
}

predicate_ops := comparison_ops | {"is_null", "is_not_null", "and", "or", "not"}

# conditions(e): predicate nodes, CASE WHEN conditions and divisors of e.
conditions(e) := ({n |
	walk(e, [_, n])
	is_object(n)
	n.op in predicate_ops
} | {cond |
	walk(e, [_, n])
	is_object(n)
	n.op == "case"
	some i, cond in n.args
	i % 2 == 0
	i < count(n.args) - 1
}) | {n.args[1] |
	walk(e, [_, n])
	is_object(n)
	n.op == "div"
}

aggregate_condition_columns[i] contains n.column if {
	some i, a in input.plan.aggregates
	some cond in conditions(a.arg)
	walk(cond, [_, n])
	is_object(n)
	n.op == "column"
	isolating(n.column)
}

deny contains msg if {
	some i, cols in aggregate_condition_columns
	msg := sprintf("fedmesh.isolating_aggregate: the argument of %s (partial aggregate %d) has a condition on identifying or quasi-identifying column(s) %s, which can isolate one row at site %s whatever the group size; group by the column instead, where the minimum group size applies", [upper(input.plan.aggregates[i].function), i, concat(", ", sort(cols)), input.site])
}
