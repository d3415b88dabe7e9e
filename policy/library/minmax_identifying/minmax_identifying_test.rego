package library_test.minmax_identifying

import data.fedmesh.library.minmax_identifying
import data.library_test.fixtures

cols := fixtures.settings.minmax_identifying.columns

test_max_of_identifying_column_denied if {
	inp := fixtures.with_columns([{"table": "patients", "column": "Age", "use": "aggregate_arg", "function": "max"}])
	d := minmax_identifying.deny with input as inp with data.fedmesh.settings.minmax_identifying.columns as cols
	d == {"fedmesh.minmax_identifying: MAX(Age) would reveal one individual's value at site a; use AVG or a coarser grouping instead"}
}

test_min_of_identifying_column_denied if {
	inp := fixtures.with_columns([{"table": "patients", "column": "birth_date", "use": "aggregate_arg", "function": "min"}])
	count(minmax_identifying.deny) == 1 with input as inp with data.fedmesh.settings.minmax_identifying.columns as cols
}

test_avg_of_identifying_column_allowed if {
	inp := fixtures.with_columns([{"table": "patients", "column": "age", "use": "aggregate_arg", "function": "avg"}])
	count(minmax_identifying.deny) == 0 with input as inp with data.fedmesh.settings.minmax_identifying.columns as cols
}

test_max_of_other_column_allowed if {
	inp := fixtures.with_columns([{"table": "patients", "column": "hba1c", "use": "aggregate_arg", "function": "max"}])
	count(minmax_identifying.deny) == 0 with input as inp with data.fedmesh.settings.minmax_identifying.columns as cols
}

with_arg(fn, arg) := json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/aggregates", "value": [
	{"function": "count_star", "column": "*"},
	{"function": fn, "column": "", "arg": arg},
]}])

test_max_of_expression_over_identifying_column_denied if {
	arg := {"op": "case", "args": [{"op": "eq", "args": [fixtures.col("region"), fixtures.str("north")]}, fixtures.col("age")]}
	d := minmax_identifying.deny with input as with_arg("max", arg) with data.fedmesh.settings.minmax_identifying.columns as cols
	d == {"fedmesh.minmax_identifying: MAX(age) would reveal one individual's value at site a; use AVG or a coarser grouping instead"}
}

test_min_in_a_join_denied if {
	inp := json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/aggregates", "value": [{"function": "min", "column": "patients.birth_date"}]}])
	count(minmax_identifying.deny) == 1 with input as inp with data.fedmesh.settings.minmax_identifying.columns as cols
}

quantile_of_age := json.patch(fixtures.aggregate, [
	{"op": "replace", "path": "/plan/columns/1", "value": {"table": "patients", "column": "age", "use": "aggregate_arg", "function": "quantile_sketch"}},
	{"op": "replace", "path": "/plan/aggregates/0", "value": {"function": "quantile_sketch", "column": "age"}},
])

test_quantile_of_identifying_column_denied if {
	d := minmax_identifying.deny with input as quantile_of_age with data.fedmesh.settings.minmax_identifying.columns as cols
	d == {"fedmesh.minmax_identifying: a percentile of age would reveal individual values at site a; use AVG, or ask the data officer to list age in minmax_identifying.quantile_allowed"}
}

test_quantile_allowed_when_listed if {
	count(minmax_identifying.deny) == 0 with input as quantile_of_age
		with data.fedmesh.settings.minmax_identifying.columns as cols
		with data.fedmesh.settings.minmax_identifying.quantile_allowed as ["AGE"]
}

test_quantile_of_other_column_allowed if {
	count(minmax_identifying.deny) == 0 with input as fixtures.aggregate with data.fedmesh.settings.minmax_identifying.columns as cols
}
