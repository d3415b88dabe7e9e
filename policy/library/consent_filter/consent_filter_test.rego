package library_test.consent_filter

import data.fedmesh.library.consent_filter
import data.library_test.fixtures

test_row_filter_for_consent_table if {
	consent_filter.obligations == {"row_filter": {"op": "eq", "args": [
		{"op": "column", "column": "consent_research"},
		{"op": "literal", "value": {"kind": "bool", "bool": true}},
	]}} with input as fixtures.aggregate
		with data.fedmesh.settings.consent_filter as fixtures.settings.consent_filter
}

test_string_consent_value if {
	consent_filter.obligations.row_filter.args[1] == {"op": "literal", "value": {"kind": "string", "str": "yes"}} with input as fixtures.aggregate
		with data.fedmesh.settings.consent_filter.tables as {"patients": {"column": "consent", "value": "yes"}}
}

test_no_filter_for_other_tables if {
	not consent_filter.obligations with input as json.patch(fixtures.aggregate, [{"op": "replace", "path": "/plan/tables", "value": ["billing"]}])
		with data.fedmesh.settings.consent_filter as fixtures.settings.consent_filter
}

test_unsupported_value_denied if {
	count(consent_filter.deny) == 1 with input as fixtures.aggregate
		with data.fedmesh.settings.consent_filter.tables as {"patients": {"column": "consent", "value": 1.5}}
}
