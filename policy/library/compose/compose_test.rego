package library_test.compose

import data.fedmesh.compose
import data.library_test.fixtures

test_allows_when_no_policy_objects if {
	d := compose.decision with input as fixtures.aggregate with data.fedmesh.settings as fixtures.settings
	d.allow
	d.obligations == {
		"min_group_size": 10,
		"deny_columns": ["name", "ssn"],
		"row_filter": {"op": "eq", "args": [
			{"op": "column", "column": "consent_research"},
			{"op": "literal", "value": {"kind": "bool", "bool": true}},
		]},
	}
	d.reasons == ["fedmesh.allow: no library policy of site a objects to this request"]
}

test_every_library_deny_is_a_reason if {
	d := compose.decision with input as fixtures.rows
		with data.fedmesh.settings as object.remove(fixtures.settings, ["purpose_binding"])
	not d.allow
	count(d.reasons) == 2
	startswith(d.reasons[0], "fedmesh.aggregate_only:")
	startswith(d.reasons[1], "fedmesh.purpose_binding:")
}

test_strictest_obligations_win if {
	d := compose.decision with input as fixtures.aggregate
		with data.fedmesh.settings as object.remove(fixtures.settings, ["consent_filter"])
		with data.fedmesh.library.x.obligations as {"min_group_size": 5, "max_groups": 100, "round_to": 5, "deny_columns": ["SSN"]}
		with data.fedmesh.library.y.obligations as {"min_group_size": 20, "max_groups": 50, "round_to": 10}
	d.obligations.min_group_size == 20
	d.obligations.max_groups == 50
	d.obligations.round_to == 10
	d.obligations.deny_columns == ["name", "ssn"]
}

test_row_filters_are_anded if {
	f1 := {"op": "eq", "args": [fixtures.col("consent"), {"op": "literal", "value": {"kind": "bool", "bool": true}}]}
	f2 := {"op": "ne", "args": [fixtures.col("status"), fixtures.str("withdrawn")]}
	d := compose.decision with input as fixtures.aggregate
		with data.fedmesh.settings as object.remove(fixtures.settings, ["consent_filter"])
		with data.fedmesh.library.x.obligations as {"row_filter": f1}
		with data.fedmesh.library.y.obligations as {"row_filter": f2}
	d.obligations.row_filter.op == "and"
	count(d.obligations.row_filter.args) == 2
}

test_unknown_version_and_kind_denied if {
	d1 := compose.decision with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/version", "value": 2}])
	not d1.allow
	d2 := compose.decision with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/kind", "value": "join"}])
	not d2.allow
	d3 := compose.decision with input as {}
	not d3.allow
}
