# Tests for the isolation rules of the default policy (fedmesh.isolating_aggregate,
# fedmesh.isolating_filter, fedmesh.minmax_sensitive) under the settings in
# data.json. Inputs have the shape the planner sends (policy/isolation_test.go
# runs the same queries from SQL).
package fedmesh_test

import data.fedmesh

col(c) := {"op": "column", "column": c}

str(s) := {"op": "literal", "value": {"kind": "string", "str": s}}

int(i) := {"op": "literal", "value": {"kind": "int", "int": i}}

call(op, args) := {"op": op, "args": args}

eqc(c, v) := call("eq", [col(c), v])

# with_aggregate(fn, arg): SELECT region, fn(arg) FROM sales GROUP BY region.
with_aggregate(fn, arg) := json.patch(aggregate_input, [
	{"op": "replace", "path": "/plan/columns", "value": array.concat(
		[{"table": "sales", "column": "region", "use": "group_key"}],
		[{"table": "sales", "column": c, "use": "aggregate_arg", "function": fn} | some c in arg_columns(arg)],
	)},
	{"op": "replace", "path": "/plan/aggregates", "value": [
		{"function": "count_star", "column": "*"},
		{"function": fn, "column": "", "arg": arg},
	]},
])

arg_columns(e) := {n.column | walk(e, [_, n]); is_object(n); n.op == "column"}

# with_aggregates(aggs): the analyst's AVG, VAR_POP of one argument.
with_aggregates(aggs) := json.patch(aggregate_input, [{"op": "replace", "path": "/plan/aggregates", "value": array.concat([{"function": "count_star", "column": "*"}], aggs)}])

with_filter(f) := json.patch(aggregate_input, [{"op": "replace", "path": "/plan/filter", "value": f}])

# join_input: SELECT sales.region, <aggs> FROM sales JOIN customers ON
# sales.customer_id = customers.customer_id [WHERE f] GROUP BY sales.region.
join_input(aggs, cols, f) := json.patch(aggregate_input, [
	{"op": "replace", "path": "/plan/tables", "value": ["sales", "customers"]},
	{"op": "replace", "path": "/plan/group_by", "value": ["sales.region"]},
	{"op": "replace", "path": "/plan/columns", "value": array.concat(
		[
			{"table": "sales", "column": "region", "use": "group_key"},
			{"table": "sales", "column": "customer_id", "use": "join_key"},
			{"table": "customers", "column": "customer_id", "use": "join_key"},
		],
		cols,
	)},
	{"op": "replace", "path": "/plan/aggregates", "value": array.concat([{"function": "count_star", "column": "*"}], aggs)},
	{"op": "replace", "path": "/plan/filter", "value": f},
])

denied_by(d, rule) if {
	d.allow == false
	some r in d.reasons
	startswith(r, sprintf("fedmesh.%s: ", [rule]))
}

allowed(d) if {
	d.allow == true
	startswith(d.reasons[0], "fedmesh.allow:")
}

# ---------------------------------------------------------------------------
# fedmesh.isolating_aggregate

# SUM(CASE WHEN segment = 'x' AND country = 'DE' AND birth_year = 1980 THEN amount ELSE 0 END)
case_over_qi := call("case", [
	call("and", [eqc("customers.segment", str("x")), eqc("customers.country", str("DE")), eqc("customers.birth_year", int(1980))]),
	col("sales.amount"),
	int(0),
])

test_isolating_case_in_a_join_denied if {
	inp := join_input(
		[{"function": "sum", "column": "", "arg": case_over_qi}],
		[
			{"table": "customers", "column": "segment", "use": "aggregate_arg", "function": "sum"},
			{"table": "customers", "column": "country", "use": "aggregate_arg", "function": "sum"},
			{"table": "customers", "column": "birth_year", "use": "aggregate_arg", "function": "sum"},
			{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "sum"},
		],
		null,
	)
	d := fedmesh.decision with input as inp with data.fedmesh.protected_tables as {}
	d.allow == false
	d.reasons == [`fedmesh.isolating_aggregate: the argument of SUM (partial aggregate 1) at site a has a condition on identifying or quasi-identifying column "birth_year" of table customers, "country" of table customers, "segment" of table customers; a condition inside an aggregate can pick out one person in a group of any size — put the column in GROUP BY instead (groups of fewer than 10 rows are suppressed), or condition only on other columns`]
}

# Every shape of condition over a quasi-identifier, at any depth of the argument.
isolating_args := {
	"coalesce": call("coalesce", [call("case", [eqc("country", str("DE")), col("amount")]), int(0)]),
	"cast predicate": call("mul", [col("amount"), call("cast", [eqc("birth_year", int(1980)), str("integer")])]),
	"not": call("case", [call("not", [call("ne", [col("zip"), str("10115")])]), col("amount")]),
	"in": call("case", [call("in", [col("zip"), str("10115"), str("10117")]), col("amount")]),
	"not in": call("case", [call("not_in", [col("zip"), str("10115")]), col("amount")]),
	"between": call("case", [call("between", [col("birth_year"), int(1980), int(1980)]), col("amount")]),
	"like": call("case", [call("like", [col("zip"), str("1011%")]), col("amount")]),
	"not like": call("case", [call("not_like", [col("zip"), str("1011%")]), col("amount")]),
	"is null": call("case", [call("is_null", [col("zip")]), col("amount")]),
	"is not null": call("case", [call("is_not_null", [col("zip")]), col("amount")]),
	"lt": call("case", [call("lt", [col("birth_year"), int(1921)]), col("amount")]),
	"ge": call("case", [call("ge", [col("birth_year"), int(2007)]), col("amount")]),
	"or": call("case", [call("or", [eqc("status", str("x")), eqc("country", str("LI"))]), col("amount")]),
	"nested case": call("case", [eqc("status", str("paid")), call("case", [eqc("birth_year", int(1980)), col("amount")])]),
	"case condition that is a column": call("case", [col("segment"), col("amount")]),
	"identifying column": call("case", [eqc("email", str("bob@example.org")), col("amount")]),
	# 1 / (1 + (birth_year - 1980) * (birth_year - 1980)) is 1 for 1980 and 0 otherwise in integer division.
	"integer-division indicator": call("mul", [col("amount"), call("div", [int(1), call("add", [int(1), call("mul", [
		call("sub", [call("cast", [col("birth_year"), str("integer")]), int(1980)]),
		call("sub", [call("cast", [col("birth_year"), str("integer")]), int(1980)]),
	])])])]),
}

test_isolating_conditions_denied_in_sum if {
	every _, arg in isolating_args {
		denied_by(fedmesh.decision, "isolating_aggregate") with input as with_aggregate("sum", arg)
	}
}

test_isolating_conditions_denied_in_count_min_max_and_sketches if {
	every fn in ["count", "var_pop", "min", "max", "hll", "quantile_sketch"] {
		denied_by(fedmesh.decision, "isolating_aggregate") with input as with_aggregate(fn, isolating_args.between)
	}
}

# AVG(x) reaches the site as SUM(x) and COUNT(x); VAR_POP as COUNT, SUM and VAR_POP.
test_isolating_avg_and_variance_denied_in_each_partial if {
	arg := isolating_args.coalesce
	d := fedmesh.decision with input as with_aggregates([
		{"function": "count", "column": "", "arg": arg},
		{"function": "sum", "column": "", "arg": arg},
		{"function": "var_pop", "column": "", "arg": arg},
	])
	d.allow == false
	count(d.reasons) == 3
	every r in d.reasons {
		startswith(r, "fedmesh.isolating_aggregate: ")
	}
}

test_isolating_column_names_are_case_insensitive if {
	denied_by(fedmesh.decision, "isolating_aggregate") with input as with_aggregate("sum", call("case", [eqc("Birth_Year", int(1980)), col("amount")]))
}

test_isolating_per_table_quasi_identifier if {
	arg := call("case", [eqc("status", str("vip")), col("amount")])
	allowed(fedmesh.decision) with input as with_aggregate("sum", arg)
	denied_by(fedmesh.decision, "isolating_aggregate") with input as with_aggregate("sum", arg)
		with data.fedmesh.tables as {"Sales": {"quasi_identifiers": ["STATUS"]}}

	# A per-table list applies to its table only.
	allowed(fedmesh.decision) with input as with_aggregate("sum", arg)
		with data.fedmesh.tables as {"customers": {"quasi_identifiers": ["status"]}}
}

# Legitimate: conditions over other columns, quasi-identifiers as values or group keys.
test_case_over_non_identifying_columns_allowed if {
	allowed(fedmesh.decision) with input as with_aggregate("sum", call("case", [eqc("status", str("paid")), col("amount")]))
	allowed(fedmesh.decision) with input as with_aggregate("sum", call("case", [call("and", [eqc("status", str("paid")), call("ge", [col("year"), int(2021)])]), col("amount"), int(0)]))
	allowed(fedmesh.decision) with input as with_aggregate("count", call("case", [call("is_not_null", [col("status")]), int(1)]))
}

test_arithmetic_over_quasi_identifiers_allowed if {
	# AVG(2025 - birth_year): an average age.
	allowed(fedmesh.decision) with input as with_aggregate("sum", call("sub", [int(2025), col("birth_year")]))
	allowed(fedmesh.decision) with input as with_aggregate("sum", call("coalesce", [col("birth_year"), int(0)]))
}

test_group_by_quasi_identifiers_allowed if {
	inp := join_input(
		[{"function": "sum", "column": "sales.amount"}],
		[
			{"table": "customers", "column": "country", "use": "group_key"},
			{"table": "customers", "column": "birth_year", "use": "group_key"},
			{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "sum"},
		],
		null,
	)
	allowed(fedmesh.decision) with input as json.patch(inp, [{"op": "replace", "path": "/plan/group_by", "value": ["customers.country", "customers.birth_year"]}])
		with data.fedmesh.protected_tables as {}
}

# ---------------------------------------------------------------------------
# fedmesh.isolating_filter

test_filter_on_identifying_column_denied if {
	every f in [
		eqc("email", str("bob@example.org")),
		call("in", [col("name"), str("Bob"), str("Alice")]),
		call("between", [col("email"), str("bob@"), str("bob@~")]),
		call("and", [call("ge", [col("email"), str("bob@")]), call("lt", [col("email"), str("boc")])]),
		call("like", [col("Email"), str("bob@%")]),
		call("ne", [col("name"), str("Bob")]),
		call("or", [eqc("region", str("north")), call("eq", [call("cast", [col("email"), str("text")]), str("x")])]),
	] {
		d := fedmesh.decision with input as with_filter(f) with data.fedmesh.protected_tables as {}
		denied_by(d, "isolating_filter")
	}
}

test_filter_on_identifying_column_message if {
	d := fedmesh.decision with input as with_filter(eqc("email", str("bob@example.org")))
	d.reasons == [`fedmesh.isolating_filter: the filter at site a tests identifying column "email" of table sales, which selects individual people; remove the condition, or filter on a coarser column that is not identifying`]
}

test_null_test_on_identifying_column_allowed if {
	allowed(fedmesh.decision) with input as with_filter(call("is_not_null", [col("email")]))
	allowed(fedmesh.decision) with input as with_filter(call("and", [call("is_null", [col("email")]), eqc("region", str("north"))]))
}

test_filter_on_denied_column_reported_once_by_denied_columns if {
	inp := json.patch(with_filter(eqc("order_id", int(7))), [{"op": "add", "path": "/plan/columns/-", "value": {"table": "sales", "column": "order_id", "use": "filter"}}])
	d := fedmesh.decision with input as inp with data.fedmesh.protected_tables as {}
	d.reasons == [`fedmesh.denied_columns: column "order_id" of table sales may not be used (as filter); remove it or ask site a's data officer`]
}

qi_filters := {
	"conjunction": call("and", [eqc("country", str("DE")), eqc("birth_year", int(1980))]),
	"three": call("and", [eqc("segment", str("x")), call("and", [eqc("country", str("DE")), eqc("zip", str("10115"))])]),
	"complement": call("not", [call("and", [eqc("country", str("DE")), eqc("birth_year", int(1980))])]),
	"disjunction of negations": call("or", [call("ne", [col("country"), str("DE")]), call("ne", [col("birth_year"), int(1980)])]),
	"case": call("case", [eqc("country", str("DE")), eqc("birth_year", int(1980))]),
	"arithmetic": call("eq", [call("add", [call("cast", [eqc("country", str("DE")), str("integer")]), call("cast", [eqc("zip", str("10115")), str("integer")])]), int(2)]),
}

test_filter_combining_quasi_identifiers_denied if {
	every _, f in qi_filters {
		denied_by(fedmesh.decision, "isolating_filter") with input as with_filter(f)
	}
}

test_filter_combining_quasi_identifiers_in_a_join_denied if {
	f := call("and", [eqc("customers.country", str("DE")), call("gt", [col("customers.birth_year"), int(1979)]), call("gt", [col("sales.amount"), int(50)])])
	inp := join_input([{"function": "sum", "column": "sales.amount"}], [], f)
	d := fedmesh.decision with input as inp with data.fedmesh.protected_tables as {}
	d.reasons == [`fedmesh.isolating_filter: the filter at site a combines quasi-identifiers "birth_year" of table customers, "country" of table customers, which together can narrow a group to one person; filter on at most one of them and put the others in GROUP BY, where groups of fewer than 10 rows are suppressed`]
}

test_filter_on_one_quasi_identifier_allowed if {
	every f in [
		eqc("country", str("DE")),
		call("and", [call("ge", [col("birth_year"), int(1970)]), call("lt", [col("birth_year"), int(1980)])]),
		call("and", [eqc("country", str("DE")), call("ge", [col("year"), int(2021)]), call("gt", [col("amount"), int(50)])]),
		call("in", [col("segment"), str("retail"), str("smb")]),
	] {
		allowed(fedmesh.decision) with input as with_filter(f)
	}
}

test_filter_on_two_tables_same_column_name if {
	# country of sales is not declared per table; customers.country is a
	# quasi-identifier everywhere: two tables, one column name, two columns.
	f := call("and", [eqc("customers.country", str("DE")), eqc("sales.country", str("DE"))])
	denied_by(fedmesh.decision, "isolating_filter") with input as join_input([{"function": "sum", "column": "sales.amount"}], [], f)
}

# ---------------------------------------------------------------------------
# fedmesh.minmax_sensitive

test_max_of_sensitive_column_denied if {
	inp := json.patch(aggregate_input, [
		{"op": "replace", "path": "/plan/columns/1/function", "value": "max"},
		{"op": "replace", "path": "/plan/aggregates/0/function", "value": "max"},
	])
	d := fedmesh.decision with input as inp with data.fedmesh.protected_tables as {}
	d.reasons == [`fedmesh.minmax_sensitive: MAX of sensitive column "amount" of table sales at site a would reveal one person's exact value however large the group; use AVG, or SUM and COUNT`]
}

test_min_max_of_expressions_over_sensitive_columns_denied if {
	every fn in ["min", "max"] {
		every arg in [
			call("mul", [col("amount"), int(2)]),
			call("case", [eqc("status", str("paid")), col("amount")]),
			call("coalesce", [col("Amount"), int(0)]),
		] {
			denied_by(fedmesh.decision, "minmax_sensitive") with input as with_aggregate(fn, arg)
		}
	}
}

test_min_of_identifying_column_denied if {
	denied_by(fedmesh.decision, "minmax_sensitive") with input as with_aggregate("min", col("email"))
}

test_max_in_a_join_denied if {
	inp := join_input(
		[{"function": "max", "column": "sales.amount"}],
		[{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "max"}],
		null,
	)
	denied_by(fedmesh.decision, "minmax_sensitive") with input as inp
}

# Even if plan.columns lacked the use, the aggregate itself is read.
test_max_read_from_aggregates_too if {
	inp := json.patch(aggregate_input, [
		{"op": "replace", "path": "/plan/columns", "value": []},
		{"op": "replace", "path": "/plan/aggregates/0/function", "value": "max"},
	])
	denied_by(fedmesh.decision, "minmax_sensitive") with input as inp
}

# percentile_cont(0.99) WITHIN GROUP (ORDER BY amount): the input does not
# say which quantile, and the sketch holds every value to ±1%.
quantile_input := json.patch(aggregate_input, [
	{"op": "replace", "path": "/plan/columns/1/function", "value": "quantile_sketch"},
	{"op": "replace", "path": "/plan/aggregates/0/function", "value": "quantile_sketch"},
])

test_quantile_of_sensitive_column_denied if {
	d := fedmesh.decision with input as quantile_input with data.fedmesh.protected_tables as {}
	d.reasons == [`fedmesh.minmax_sensitive: a percentile (quantile sketch) of sensitive column "amount" of table sales at site a would reveal one person's exact value however large the group; use AVG, or ask the data officer to list the column in quantile_allowed_columns`]
}

test_quantile_allowed_when_listed if {
	allowed(fedmesh.decision) with input as quantile_input with data.fedmesh.quantile_allowed_columns as ["AMOUNT"]
	allowed(fedmesh.decision) with input as quantile_input with data.fedmesh.tables as {"sales": {"quantile_allowed_columns": ["amount"]}}

	# quantile_allowed_columns does not allow MIN/MAX.
	denied_by(fedmesh.decision, "minmax_sensitive") with input as with_aggregate("max", col("amount"))
		with data.fedmesh.quantile_allowed_columns as ["amount"]
}

test_sensitive_per_table if {
	inp := with_aggregate("max", col("year"))
	allowed(fedmesh.decision) with input as inp
	denied_by(fedmesh.decision, "minmax_sensitive") with input as inp with data.fedmesh.tables as {"sales": {"sensitive_columns": ["year"]}}
}

test_sum_avg_count_variance_of_sensitive_column_allowed if {
	every fn in ["sum", "count", "var_pop"] {
		allowed(fedmesh.decision) with input as with_aggregate(fn, col("amount"))
	}
	allowed(fedmesh.decision) with input as with_aggregate("max", col("year"))
	allowed(fedmesh.decision) with input as with_aggregate("quantile_sketch", col("year"))
}

# ---------------------------------------------------------------------------
# Settings

test_no_isolation_settings_no_isolation_denials if {
	d := fedmesh.decision with input as with_aggregate("max", isolating_args.between)
		with data.fedmesh.identifying_columns as []
		with data.fedmesh.quasi_identifiers as []
		with data.fedmesh.sensitive_columns as []
	allowed(d)
}

test_every_isolation_reason_names_its_rule if {
	every inp in [with_aggregate("max", isolating_args.between), with_filter(qi_filters.conjunction), quantile_input] {
		d := fedmesh.decision with input as inp with data.fedmesh.protected_tables as {}
		every r in d.reasons {
			regex.match(`^fedmesh\.(isolating_aggregate|isolating_filter|minmax_sensitive): `, r)
		}
	}
}

test_filter_on_an_unqualified_using_key_counts_once if {
	# JOIN customers USING (zip) WHERE zip = '10115': zip names both tables' column.
	allowed(fedmesh.decision) with input as join_input([{"function": "sum", "column": "sales.amount"}], [], eqc("zip", str("10115")))
		with data.fedmesh.protected_tables as {}
}
