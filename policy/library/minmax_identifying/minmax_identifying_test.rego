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
