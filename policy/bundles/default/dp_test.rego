# Tests for the default bundle's differential-privacy rules (dp.rego).
package fedmesh_dp_test

import data.fedmesh

dp_input := {
	"version": 1,
	"site": "a",
	"query_id": "q-1",
	"analyst": {"id": "alice", "roles": ["analyst"], "recent_queries": 0, "verified": true},
	"purpose": "segment report",
	"privacy": {"epsilon": 0, "delta": 0},
	"plan": {
		"kind": "aggregate",
		"tables": ["customers"],
		"star": false,
		"columns": [
			{"table": "customers", "column": "segment", "use": "group_key"},
			{"table": "customers", "column": "birth_year", "use": "aggregate_arg", "function": "sum"},
		],
		"group_by": ["segment"],
		"aggregates": [
			{"function": "sum", "column": "birth_year"},
			{"function": "count_star", "column": "*"},
		],
		"filter": null,
	},
}

test_protected_table_gets_dp_obligation if {
	d := fedmesh.decision with input as dp_input
	d.allow == true
	d.obligations.dp.table == "customers"
	d.obligations.dp.unit == "customer_id"
	d.obligations.dp.epsilon == 1
	d.obligations.dp.bounds.birth_year == [1930, 2010]
}

test_requested_epsilon_is_granted_up_to_the_maximum if {
	d := fedmesh.decision with input as json.patch(dp_input, [{"op": "replace", "path": "/privacy/epsilon", "value": 0.5}])
	d.obligations.dp.epsilon == 0.5
	d2 := fedmesh.decision with input as json.patch(dp_input, [{"op": "replace", "path": "/privacy/epsilon", "value": 5}])
	d2.allow == false
	startswith(d2.reasons[0], "fedmesh.dp_epsilon:")
}

test_unverified_analyst_is_refused if {
	d := fedmesh.decision with input as json.patch(dp_input, [{"op": "replace", "path": "/analyst/verified", "value": false}])
	d.allow == false
	some r in d.reasons
	startswith(r, "fedmesh.dp_credential:")
}

test_min_max_refused_with_the_alternative if {
	inp := json.patch(dp_input, [{"op": "replace", "path": "/plan/aggregates/0/function", "value": "max"}])
	d := fedmesh.decision with input as inp
	d.allow == false
	some r in d.reasons
	startswith(r, "fedmesh.dp_minmax:")
	contains(r, "percentile_cont")
}

test_sum_without_bounds_refused if {
	inp := json.patch(dp_input, [{"op": "replace", "path": "/plan/aggregates/0/column", "value": "country"}])
	d := fedmesh.decision with input as inp
	d.allow == false
	some r in d.reasons
	startswith(r, "fedmesh.dp_bounds:")
}

test_unprotected_table_has_no_dp_obligation if {
	inp := json.patch(dp_input, [{"op": "replace", "path": "/plan/tables", "value": ["sales"]}])
	d := fedmesh.decision with input as inp
	not d.obligations.dp
}

test_join_with_protected_table_is_dp if {
	inp := json.patch(dp_input, [{"op": "replace", "path": "/plan/tables", "value": ["sales", "customers"]}])
	d := fedmesh.decision with input as inp
	d.obligations.dp.table == "customers"
}
