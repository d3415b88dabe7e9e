package library_test.purpose_binding

import data.fedmesh.library.purpose_binding
import data.library_test.fixtures

purposes := fixtures.settings.purpose_binding.purposes

test_registered_purpose_role_and_table_pass if {
	count(purpose_binding.deny) == 0 with input as fixtures.aggregate
		with data.fedmesh.settings.purpose_binding.purposes as purposes
}

test_unregistered_purpose_denied if {
	d := purpose_binding.deny with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/purpose", "value": "marketing"}])
		with data.fedmesh.settings.purpose_binding.purposes as purposes
	d == {`fedmesh.purpose_binding: purpose "marketing" is not registered at site a; registered purposes: ["diabetes-study"]`}
}

test_role_not_bound_to_purpose_denied if {
	d := purpose_binding.deny with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/analyst/roles", "value": ["analyst"]}])
		with data.fedmesh.settings.purpose_binding.purposes as purposes
	count(d) == 1
	some msg in d
	contains(msg, `requires one of the roles ["researcher"]`)
}

test_table_outside_purpose_denied if {
	d := purpose_binding.deny with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/tables", "value": ["billing"]}])
		with data.fedmesh.settings.purpose_binding.purposes as purposes
	d == {`fedmesh.purpose_binding: purpose "diabetes-study" does not cover table billing at site a`}
}

test_no_purposes_configured_denies_everything if {
	count(purpose_binding.deny) == 1 with input as fixtures.aggregate
}

test_missing_purpose_denied if {
	count(purpose_binding.deny) == 1 with input as json.remove(fixtures.aggregate, ["purpose"])
		with data.fedmesh.settings.purpose_binding.purposes as purposes
}
