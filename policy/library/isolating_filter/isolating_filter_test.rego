package library_test.isolating_filter

import data.fedmesh.library.isolating_filter
import data.library_test.fixtures

ids := fixtures.settings.isolating_filter.identifiers

test_equality_on_identifier_denied if {
	inp := fixtures.with_filter({"op": "eq", "args": [fixtures.col("patient_id"), fixtures.int(4711)]})
	d := isolating_filter.deny with input as inp with data.fedmesh.settings.isolating_filter.identifiers as ids
	d == {"fedmesh.isolating_filter: a filter of the form patient_id = … on identifier column patient_id would isolate one row at site a; filter on a coarser attribute"}
}

test_nested_equality_denied if {
	f := {"op": "and", "args": [
		{"op": "gt", "args": [fixtures.col("age"), fixtures.int(40)]},
		{"op": "in", "args": [fixtures.col("EMAIL"), fixtures.str("a@example.org")]},
	]}
	count(isolating_filter.deny) == 1 with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
}

# A range on an identifier isolates too (patient_id > 4710 AND patient_id <
# 4712); this test used to allow it.
test_range_on_identifier_denied if {
	f := {"op": "and", "args": [
		{"op": "gt", "args": [fixtures.col("patient_id"), fixtures.int(4710)]},
		{"op": "lt", "args": [fixtures.col("patient_id"), fixtures.int(4712)]},
	]}
	d := isolating_filter.deny with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
	d == {
		"fedmesh.isolating_filter: a filter of the form patient_id > … on identifier column patient_id would isolate one row at site a; filter on a coarser attribute",
		"fedmesh.isolating_filter: a filter of the form patient_id < … on identifier column patient_id would isolate one row at site a; filter on a coarser attribute",
	}
}

test_every_comparison_on_identifier_denied if {
	every f in [
		{"op": "between", "args": [fixtures.col("patient_id"), fixtures.int(4711), fixtures.int(4711)]},
		{"op": "like", "args": [fixtures.col("email"), fixtures.str("bob@%")]},
		{"op": "ne", "args": [fixtures.col("email"), fixtures.str("bob@example.org")]},
		{"op": "not_in", "args": [fixtures.col("patient_id"), fixtures.int(1)]},
		{"op": "eq", "args": [{"op": "add", "args": [fixtures.col("patient_id"), fixtures.int(1)]}, fixtures.int(4712)]},
		{"op": "eq", "args": [fixtures.col("patients.patient_id"), fixtures.int(4711)]},
		{"op": "case", "args": [fixtures.col("patient_id"), fixtures.col("region")]},
	] {
		count(isolating_filter.deny) > 0 with input as fixtures.with_filter(f)
			with data.fedmesh.settings.isolating_filter.identifiers as ids
	}
}

test_null_test_on_identifier_allowed if {
	f := {"op": "is_not_null", "args": [fixtures.col("email")]}
	count(isolating_filter.deny) == 0 with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
}

qis := ["country", "birth_year", "zip"]

test_two_quasi_identifiers_denied if {
	f := {"op": "not", "args": [{"op": "and", "args": [
		{"op": "eq", "args": [fixtures.col("country"), fixtures.str("DE")]},
		{"op": "eq", "args": [fixtures.col("Birth_Year"), fixtures.int(1980)]},
	]}]}
	d := isolating_filter.deny with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
		with data.fedmesh.settings.isolating_filter.quasi_identifiers as qis
	d == {"fedmesh.isolating_filter: the filter combines quasi-identifiers birth_year, country, which together can narrow a group to one person at site a; filter on at most one of them and group by the others, where the minimum group size applies"}
}

test_one_quasi_identifier_allowed if {
	f := {"op": "and", "args": [
		{"op": "ge", "args": [fixtures.col("birth_year"), fixtures.int(1970)]},
		{"op": "lt", "args": [fixtures.col("birth_year"), fixtures.int(1980)]},
	]}
	count(isolating_filter.deny) == 0 with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
		with data.fedmesh.settings.isolating_filter.quasi_identifiers as qis
}

with_arg(fn, arg) := json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/aggregates", "value": [
	{"function": "count_star", "column": "*"},
	{"function": fn, "column": "", "arg": arg},
]}])

test_condition_inside_aggregate_denied if {
	arg := {"op": "case", "args": [
		{"op": "and", "args": [
			{"op": "eq", "args": [fixtures.col("zip"), fixtures.str("10115")]},
			{"op": "eq", "args": [fixtures.col("birth_year"), fixtures.int(1980)]},
		]},
		fixtures.col("hba1c"),
	]}
	d := isolating_filter.deny with input as with_arg("sum", arg)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
		with data.fedmesh.settings.isolating_filter.quasi_identifiers as qis
	d == {"fedmesh.isolating_aggregate: the argument of SUM (partial aggregate 1) has a condition on identifying or quasi-identifying column(s) birth_year, zip, which can isolate one row at site a whatever the group size; group by the column instead, where the minimum group size applies"}
}

test_identifier_condition_inside_aggregate_denied_without_quasi_identifiers if {
	arg := {"op": "mul", "args": [fixtures.col("hba1c"), {"op": "cast", "args": [
		{"op": "eq", "args": [fixtures.col("email"), fixtures.str("bob@example.org")]},
		fixtures.str("integer"),
	]}]}
	count(isolating_filter.deny) == 1 with input as with_arg("count", arg)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
}

test_condition_on_other_columns_inside_aggregate_allowed if {
	arg := {"op": "case", "args": [{"op": "eq", "args": [fixtures.col("region"), fixtures.str("north")]}, fixtures.col("hba1c")]}
	count(isolating_filter.deny) == 0 with input as with_arg("sum", arg)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
		with data.fedmesh.settings.isolating_filter.quasi_identifiers as qis
}

test_equality_on_other_column_allowed if {
	f := {"op": "eq", "args": [fixtures.col("region"), fixtures.str("north")]}
	count(isolating_filter.deny) == 0 with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
}

test_no_filter_allowed if {
	count(isolating_filter.deny) == 0 with input as fixtures.aggregate
		with data.fedmesh.settings.isolating_filter.identifiers as ids
}
