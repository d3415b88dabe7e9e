package library_test.aggregate_only

import data.fedmesh.library.aggregate_only
import data.library_test.fixtures

test_aggregate_allowed if {
	count(aggregate_only.deny) == 0 with input as fixtures.aggregate
}

test_rows_denied if {
	aggregate_only.deny == {"fedmesh.aggregate_only: site a exports only aggregates; raw rows may not leave the site — group by permitted columns and use COUNT/SUM/AVG/MIN/MAX"} with input as fixtures.rows
}

test_missing_kind_denied if {
	count(aggregate_only.deny) == 1 with input as json.remove(fixtures.aggregate, ["plan/kind"])
}
