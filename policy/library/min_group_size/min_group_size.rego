# Groups of fewer than data.fedmesh.settings.min_group_size.k rows (default
# 10) are dropped at the site before export. The agent enforces it on the
# Arrow result; this policy only sets the obligation.
package fedmesh.library.min_group_size

default k := 10

k := data.fedmesh.settings.min_group_size.k

obligations := {"min_group_size": k}

deny contains msg if {
	not is_number(k)
	msg := "fedmesh.min_group_size: settings.min_group_size.k must be a number"
}
