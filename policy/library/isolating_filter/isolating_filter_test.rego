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

test_range_on_identifier_allowed if {
	f := {"op": "gt", "args": [fixtures.col("patient_id"), fixtures.int(1000)]}
	count(isolating_filter.deny) == 0 with input as fixtures.with_filter(f)
		with data.fedmesh.settings.isolating_filter.identifiers as ids
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
