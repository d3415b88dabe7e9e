# Inputs shared by the library's tests.
package library_test.fixtures

aggregate := {
	"version": 1,
	"site": "a",
	"query_id": "q-1",
	"analyst": {"id": "alice", "roles": ["researcher"], "recent_queries": 0},
	"purpose": "diabetes-study",
	"plan": {
		"kind": "aggregate",
		"tables": ["patients"],
		"star": false,
		"columns": [
			{"table": "patients", "column": "region", "use": "group_key"},
			{"table": "patients", "column": "hba1c", "use": "aggregate_arg", "function": "avg"},
		],
		"group_by": ["region"],
		"aggregates": [
			{"function": "avg", "column": "hba1c"},
			{"function": "count_star", "column": "*"},
		],
		"filter": null,
	},
}

rows := json.patch(aggregate, [
	{"op": "replace", "path": "/plan/kind", "value": "rows"},
	{"op": "replace", "path": "/plan/star", "value": true},
	{"op": "replace", "path": "/plan/columns", "value": [{"table": "patients", "column": "*", "use": "projection"}]},
	{"op": "replace", "path": "/plan/group_by", "value": []},
	{"op": "replace", "path": "/plan/aggregates", "value": []},
])

with_columns(cols) := json.patch(aggregate, [{"op": "replace", "path": "/plan/columns", "value": cols}])

with_filter(f) := json.patch(aggregate, [{"op": "replace", "path": "/plan/filter", "value": f}])

col(c) := {"op": "column", "column": c}

str(s) := {"op": "literal", "value": {"kind": "string", "str": s}}

int(i) := {"op": "literal", "value": {"kind": "int", "int": i}}

# Settings under which every library policy allows fixtures.aggregate.
settings := {
	"min_group_size": {"k": 10},
	"columns_by_role": {"denied": ["ssn", "name"], "allowed_by_role": {"researcher": ["region", "hba1c", "age"]}},
	"purpose_binding": {"purposes": {"diabetes-study": {"roles": ["researcher"], "tables": ["patients"]}}},
	"consent_filter": {"tables": {"patients": {"column": "consent_research", "value": true}}},
	"rate_limit": {"max_queries": 3},
	"minmax_identifying": {"columns": ["age", "birth_date"]},
	"isolating_filter": {"identifiers": ["patient_id", "email"]},
}
