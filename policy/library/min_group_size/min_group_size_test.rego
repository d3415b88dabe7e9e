package library_test.min_group_size

import data.fedmesh.library.min_group_size
import data.library_test.fixtures

test_default_is_10 if {
	min_group_size.obligations == {"min_group_size": 10} with input as fixtures.aggregate
}

test_from_settings if {
	min_group_size.obligations == {"min_group_size": 25} with input as fixtures.aggregate
		with data.fedmesh.settings.min_group_size.k as 25
}

test_non_number_denied if {
	count(min_group_size.deny) == 1 with input as fixtures.aggregate
		with data.fedmesh.settings.min_group_size.k as "ten"
}
