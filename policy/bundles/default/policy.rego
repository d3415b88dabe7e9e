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

# Exact-mode guards against differencing and side channels (policy/README.md,
# "Differencing and side channels"). data.fedmesh.units maps a table to the
# column naming its privacy unit (the person); a plan over such a table gets a
# difference check (k: data.fedmesh.difference_k, default the minimum group
# size, which then counts distinct units). Tables under differential privacy
# get the dp obligation instead.
default units_setting := {}

units_setting := data.fedmesh.units

default difference_check_obligation := {}

difference_check_obligation := {"difference_check": object.union(
	{"unit": units_setting[input.plan.tables[0]]},
	difference_k_setting,
)} if {
	units_setting[input.plan.tables[0]]
	not dp_obligation.dp
}

default difference_k_setting := {}

difference_k_setting := {"k": data.fedmesh.difference_k}

# How much a site tells about the groups it dropped: "flag" (whether some
# were), unless data.fedmesh.report_suppressed says "exact", "coarse" or "none".
default report_suppressed_obligation := {"report_suppressed": "flag"}

report_suppressed_obligation := {"report_suppressed": data.fedmesh.report_suppressed}

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
# Isolation: conditions, filters and extremes that single out one person.
#
# Settings (data.json), every list optional and compared case-insensitively:
#   identifying_columns: columns that name one person (customer_id, email)
#   quasi_identifiers:   columns that narrow people down (country, birth_year, zip)
#   sensitive_columns:   values that must not be read off one person (amount)
#   quantile_allowed_columns: sensitive columns whose percentiles may be exported
#   tables: {table: {identifying_columns, quasi_identifiers, sensitive_columns,
#           quantile_allowed_columns}} — added to the global lists for columns
#           of that table only.
# See policy/README.md ("Isolation defences") for what these stop and what
# they do not.

column_roles := {"identifying_columns", "quasi_identifiers", "sensitive_columns", "quantile_allowed_columns"}

# global_role_columns[role] is the set of lower-cased column names with the
# role in every table; table_role_columns[role] the set of [table, column].
global_role_columns.identifying_columns contains lower(c) if some c in data.fedmesh.identifying_columns

global_role_columns.quasi_identifiers contains lower(c) if some c in data.fedmesh.quasi_identifiers

global_role_columns.sensitive_columns contains lower(c) if some c in data.fedmesh.sensitive_columns

global_role_columns.quantile_allowed_columns contains lower(c) if some c in data.fedmesh.quantile_allowed_columns

table_role_columns[role] contains [lower(t), lower(c)] if {
	some t, settings in data.fedmesh.tables
	some role in column_roles
	some c in settings[role]
}

# qualified(name) splits a join plan's "table.column" (planner.SplitQualified).
qualified(name) := [substring(name, 0, i), substring(name, i + 1, -1)] if {
	i := indexof(name, ".")
	i > 0
	i < count(name) - 1
}

# column_refs(name) is the set of [table, column] (lower case) a column
# reference in an expression may mean: the qualified table in a join, every
# table of the plan otherwise (an unqualified USING key names both).
column_refs(name) := {[lower(q[0]), lower(q[1])]} if {
	q := qualified(name)
} else := {[lower(t), lower(name)] | some t in input.plan.tables}

# has_role leaves out denied columns: fedmesh.denied_columns already refuses
# every use of them (but join_key) and says so once.
has_role(_, column, role) if {
	lower(column) in global_role_columns[role]
	not lower(column) in denied_column_names
}

has_role(table, column, role) if {
	[lower(table), lower(column)] in table_role_columns[role]
	not lower(column) in denied_column_names
}

ref_has_role(name, role) if {
	some [t, c] in column_refs(name)
	has_role(t, c, role)
}

# describe(name) names a column reference for messages: "country" of table
# customers.
describe(name) := sprintf("%q of table %s", [q[1], q[0]]) if {
	q := qualified(name)
} else := sprintf("%q of table %s", [name, concat("/", input.plan.tables)])

# expr_columns(e) is the set of column names referenced anywhere in e.
expr_columns(e) := {n.column |
	walk(e, [_, n])
	is_object(n)
	n.op == "column"
}

identifying_refs(e) := {c | some c in expr_columns(e); ref_has_role(c, "identifying_columns")}

quasi_refs(e) := {c | some c in expr_columns(e); ref_has_role(c, "quasi_identifiers")}

isolating_refs(e) := identifying_refs(e) | quasi_refs(e)

aggregate_name(a) := upper(a.function)

# predicate_ops are the nodes that select rows: inside an aggregate's argument
# they decide which rows contribute, whatever the group.
predicate_ops := {
	"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between",
	"like", "not_like", "is_null", "is_not_null", "and", "or", "not",
}

# conditions(e) are the subtrees of e that select rows: predicate nodes, the
# WHEN conditions of CASE (args 0, 2, 4, … before the ELSE), and divisors
# (integer division 1 / (1 + (x - c) * (x - c)) is an indicator of x = c
# without a predicate).
conditions(e) := (predicate_nodes(e) | case_conditions(e)) | divisors(e)

predicate_nodes(e) := {n |
	walk(e, [_, n])
	is_object(n)
	n.op in predicate_ops
}

case_conditions(e) := {cond |
	walk(e, [_, n])
	is_object(n)
	n.op == "case"
	some i, cond in n.args
	i % 2 == 0
	i < count(n.args) - 1
}

divisors(e) := {n.args[1] |
	walk(e, [_, n])
	is_object(n)
	n.op == "div"
}

# 1. fedmesh.isolating_aggregate: SUM(CASE WHEN country = 'DE' AND
# birth_year = 1980 THEN amount END) over a large group is one person's
# amount; the minimum group size counts the group, not the rows the
# condition lets through.
isolating_aggregate_columns[i] contains c if {
	some i, a in input.plan.aggregates
	some cond in conditions(a.arg)
	some c in isolating_refs(cond)
}

deny contains msg if {
	some i, cols in isolating_aggregate_columns
	a := input.plan.aggregates[i]
	msg := sprintf(
		"fedmesh.isolating_aggregate: the argument of %s (partial aggregate %d) at site %s has a condition on identifying or quasi-identifying column %s; a condition inside an aggregate can pick out one person in a group of any size — put the column in GROUP BY instead (groups of fewer than %d rows are suppressed), or condition only on other columns",
		[aggregate_name(a), i, site_name, concat(", ", sort([describe(c) | some c in cols])), min_group_size_setting],
	)
}

# 2. fedmesh.isolating_filter: a filter on an identifying column (customer_id
# = 4711, email LIKE 'bob@%', id BETWEEN 17 AND 17) selects named people; the
# only uses left are IS [NOT] NULL directly on the column.
filter_null_tested contains array.concat(p, ["args", 0]) if {
	input.plan.filter != null
	walk(input.plan.filter, [p, n])
	is_object(n)
	n.op in {"is_null", "is_not_null"}
}

isolating_filter_identifiers contains n.column if {
	input.plan.filter != null
	walk(input.plan.filter, [p, n])
	is_object(n)
	n.op == "column"
	ref_has_role(n.column, "identifying_columns")
	not p in filter_null_tested
}

deny contains msg if {
	count(isolating_filter_identifiers) > 0
	msg := sprintf(
		"fedmesh.isolating_filter: the filter at site %s tests identifying column %s, which selects individual people; remove the condition, or filter on a coarser column that is not identifying",
		[site_name, concat(", ", sort([describe(c) | some c in isolating_filter_identifiers]))],
	)
}

# A filter that combines two or more distinct quasi-identifiers (country =
# 'DE' AND birth_year = 1980 AND zip = '10115') narrows to a handful of
# people; its complement, NOT (…), is the other half of a differencing pair.
# AND, OR, NOT and any expression combining them are all refused, since each
# can be rewritten into the others. One quasi-identifier (any predicate on
# it) is left to the minimum group size.
# Distinct quasi-identifiers are counted by the names the filter uses:
# customers.country and sales.country are two, an unqualified USING key one.
filter_quasi_identifiers contains lower(name) if {
	input.plan.filter != null
	some name in quasi_refs(input.plan.filter)
}

deny contains msg if {
	count(filter_quasi_identifiers) > 1
	msg := sprintf(
		"fedmesh.isolating_filter: the filter at site %s combines quasi-identifiers %s, which together can narrow a group to one person; filter on at most one of them and put the others in GROUP BY, where groups of fewer than %d rows are suppressed",
		[site_name, concat(", ", sort([describe(c) | some c in quasi_refs(input.plan.filter)])), min_group_size_setting],
	)
}

# 3. fedmesh.minmax_sensitive: MIN/MAX of a sensitive or identifying column
# (or of an expression over one) is one person's exact value however large
# the group; a quantile sketch carries every value to ±1%. The policy input
# does not carry the requested quantile, so quantile sketches of sensitive
# columns are refused unless the column is in quantile_allowed_columns.
extreme_functions := {"min", "max", "quantile_sketch"}

# extreme_uses contains [function, table, column] from plan.columns and,
# should they ever disagree, from plan.aggregates.
extreme_uses contains [u.function, u.table, u.column] if {
	some u in input.plan.columns
	u.use == "aggregate_arg"
	u.function in extreme_functions
}

extreme_uses contains [a.function, t, c] if {
	some a in input.plan.aggregates
	a.function in extreme_functions
	some name in ({a.column} | expr_columns(object.get(a, "arg", null)))
	name != "*"
	some [t, c] in column_refs(name)
}

minmax_exposed(t, c) if has_role(t, c, "sensitive_columns")

minmax_exposed(t, c) if has_role(t, c, "identifying_columns")

minmax_hits contains [fn, t, c] if {
	some [fn, t, c] in extreme_uses
	minmax_exposed(t, c)
	not quantile_allowed(fn, t, c)
}

quantile_allowed(fn, t, c) if {
	fn == "quantile_sketch"
	has_role(t, c, "quantile_allowed_columns")
}

minmax_advice("quantile_sketch") := "use AVG, or ask the data officer to list the column in quantile_allowed_columns"

minmax_advice(fn) := "use AVG, or SUM and COUNT" if fn != "quantile_sketch"

minmax_what("quantile_sketch") := "a percentile (quantile sketch)"

minmax_what(fn) := upper(fn) if fn != "quantile_sketch"

deny contains msg if {
	some [fn, t, c] in minmax_hits
	msg := sprintf(
		"fedmesh.minmax_sensitive: %s of sensitive column %q of table %s at site %s would reveal one person's exact value however large the group; %s",
		[minmax_what(fn), c, t, site_name, minmax_advice(fn)],
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
	object.union(
		object.union(dp_obligation, difference_check_obligation),
		report_suppressed_obligation,
	),
)

decision := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
}
