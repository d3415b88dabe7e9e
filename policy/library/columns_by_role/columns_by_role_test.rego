package library_test.columns_by_role

import data.fedmesh.library.columns_by_role
import data.library_test.fixtures

settings := fixtures.settings.columns_by_role

test_allowed_columns_pass if {
	count(columns_by_role.deny) == 0 with input as fixtures.aggregate
		with data.fedmesh.settings.columns_by_role as settings
}

test_denied_column_refused_for_everyone if {
	inp := json.patch(fixtures.with_columns([{"table": "patients", "column": "SSN", "use": "filter"}]), [{"op": "replace", "path": "/analyst/roles", "value": ["admin"]}])
	d := columns_by_role.deny with input as inp
		with data.fedmesh.settings.columns_by_role as object.union(settings, {"allowed_by_role": {"admin": ["*"]}})
	d == {`fedmesh.columns_by_role: column "SSN" of table patients may not be used (as filter) by anyone at site a`}
}

test_column_outside_role_refused if {
	inp := fixtures.with_columns([{"table": "patients", "column": "income", "use": "group_key"}])
	d := columns_by_role.deny with input as inp with data.fedmesh.settings.columns_by_role as settings
	d == {`fedmesh.columns_by_role: column "income" of table patients is not allowed for roles ["researcher"] at site a; ask the site's data officer for a role that may use it`}
}

test_any_role_may_grant if {
	inp := json.patch(fixtures.with_columns([{"table": "patients", "column": "income", "use": "group_key"}]), [{"op": "replace", "path": "/analyst/roles", "value": ["researcher", "economist"]}])
	count(columns_by_role.deny) == 0 with input as inp
		with data.fedmesh.settings.columns_by_role as object.union(settings, {"allowed_by_role": {"economist": ["income"]}})
}

test_no_role_list_means_only_denied_list if {
	inp := fixtures.with_columns([{"table": "patients", "column": "income", "use": "group_key"}])
	count(columns_by_role.deny) == 0 with input as inp with data.fedmesh.settings.columns_by_role as {"denied": ["ssn"]}
}

test_obligation_lists_denied_columns if {
	columns_by_role.obligations == {"deny_columns": ["name", "ssn"]} with input as fixtures.aggregate
		with data.fedmesh.settings.columns_by_role as settings
}
