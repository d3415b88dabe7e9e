# Tests for the default policy; run with `opa test policy/bundles/default`
# or `go test ./policy/` (TestRegoUnitTests).
package fedmesh_test

import data.fedmesh

aggregate_input := {
	"version": 1,
	"site": "a",
	"query_id": "q-1",
	"analyst": {"id": "alice", "roles": ["analyst"]},
	"purpose": "monthly report",
	"plan": {
		"kind": "aggregate",
		"tables": ["sales"],
		"star": false,
		"columns": [
			{"table": "sales", "column": "region", "use": "group_key"},
			{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "sum"},
		],
		"group_by": ["region"],
		"aggregates": [
			{"function": "sum", "column": "amount"},
			{"function": "count_star", "column": "*"},
		],
		"filter": null,
	},
}

rows_input := json.patch(aggregate_input, [
	{"op": "replace", "path": "/plan/kind", "value": "rows"},
	{"op": "replace", "path": "/plan/star", "value": true},
	{"op": "replace", "path": "/plan/columns", "value": [{"table": "sales", "column": "*", "use": "projection"}]},
	{"op": "replace", "path": "/plan/group_by", "value": []},
	{"op": "replace", "path": "/plan/aggregates", "value": []},
])

with_columns(cols) := json.patch(aggregate_input, [{"op": "replace", "path": "/plan/columns", "value": cols}])

test_aggregate_allowed if {
	d := fedmesh.decision with input as aggregate_input
	d.allow == true
	d.obligations.min_group_size == 10
	d.obligations.deny_columns == ["customer_id", "order_id"]
	startswith(d.reasons[0], "fedmesh.allow:")
}

test_rows_denied_aggregate_only if {
	d := fedmesh.decision with input as rows_input
	d.allow == false
	d.reasons == ["fedmesh.aggregate_only: site a exports only aggregates; raw rows (SELECT *) may not leave the site — group by permitted columns and use COUNT/SUM/AVG/MIN/MAX"]
}

test_projection_denied_aggregate_only if {
	inp := json.patch(rows_input, [{"op": "replace", "path": "/plan/star", "value": false}])
	d := fedmesh.decision with input as inp
	d.allow == false
	contains(d.reasons[0], "raw rows (a projection without GROUP BY)")
}

test_denied_column_names_column_and_uses if {
	inp := with_columns([
		{"table": "sales", "column": "customer_id", "use": "group_key"},
		{"table": "sales", "column": "customer_id", "use": "filter"},
		{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "sum"},
	])
	d := fedmesh.decision with input as inp
	d.allow == false
	d.reasons == [`fedmesh.denied_columns: column "customer_id" of table sales may not be used (as filter, group_key); remove it or ask site a's data officer`]
}

test_denied_column_may_be_a_join_key if {
	inp := with_columns([
		{"table": "sales", "column": "customer_id", "use": "join_key"},
		{"table": "customers", "column": "customer_id", "use": "join_key"},
		{"table": "sales", "column": "amount", "use": "aggregate_arg", "function": "sum"},
	])
	d := fedmesh.decision with input as inp
	d.allow == true
}

test_denied_join_key_still_denied_elsewhere if {
	inp := with_columns([
		{"table": "sales", "column": "customer_id", "use": "join_key"},
		{"table": "customers", "column": "customer_id", "use": "group_key"},
	])
	d := fedmesh.decision with input as inp
	d.reasons == [`fedmesh.denied_columns: column "customer_id" of table customers may not be used (as group_key); remove it or ask site a's data officer`]
}

test_denied_column_is_case_insensitive if {
	inp := with_columns([{"table": "sales", "column": "Order_ID", "use": "aggregate_arg", "function": "count"}])
	d := fedmesh.decision with input as inp
	d.allow == false
	contains(d.reasons[0], `column "Order_ID"`)
}

test_every_denied_column_reported if {
	inp := with_columns([
		{"table": "sales", "column": "customer_id", "use": "group_key"},
		{"table": "sales", "column": "order_id", "use": "filter"},
	])
	d := fedmesh.decision with input as inp
	count(d.reasons) == 2
}

test_wrong_input_version_denied if {
	inp := json.patch(aggregate_input, [{"op": "replace", "path": "/version", "value": 2}])
	d := fedmesh.decision with input as inp
	d.allow == false
	startswith(d.reasons[0], "fedmesh.input_version: policy input version 2 ")
}

test_missing_input_version_denied if {
	inp := json.remove(aggregate_input, ["version"])
	d := fedmesh.decision with input as inp
	d.allow == false
	startswith(d.reasons[0], "fedmesh.input_version:")
}

test_unknown_kind_denied if {
	inp := json.patch(aggregate_input, [{"op": "replace", "path": "/plan/kind", "value": "join"}])
	d := fedmesh.decision with input as inp
	d.allow == false
	d.reasons == ["fedmesh.plan_kind: plan kind join is not known to the policy of site a; only aggregate plans can be exported"]
}

test_empty_input_denied if {
	d := fedmesh.decision with input as {}
	d.allow == false
	count(d.reasons) > 0
}

test_min_group_size_from_data if {
	d := fedmesh.decision with input as aggregate_input with data.fedmesh.min_group_size as 25
	d.allow == true
	d.obligations.min_group_size == 25
}

test_denied_columns_from_data if {
	d := fedmesh.decision with input as aggregate_input with data.fedmesh.denied_columns as ["region"]
	d.allow == false
	contains(d.reasons[0], `column "region"`)
	d.obligations.deny_columns == ["region"]
}

test_max_groups_obligation_only_when_configured if {
	d1 := fedmesh.decision with input as aggregate_input
	not "max_groups" in object.keys(d1.obligations)
	d2 := fedmesh.decision with input as aggregate_input with data.fedmesh.max_groups as 500
	d2.obligations.max_groups == 500
}

test_every_reason_names_its_rule if {
	every inp in [aggregate_input, rows_input, {}] {
		d := fedmesh.decision with input as inp
		every r in d.reasons {
			regex.match(`^fedmesh\.[a-z_]+: `, r)
		}
	}
}
