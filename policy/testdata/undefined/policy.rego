package fedmesh

# Defined for the self-check samples only; undefined for everything else.
decision := {"allow": false, "reasons": ["fedmesh.test: self-check"], "obligations": {"min_group_size": 10}} if {
	startswith(input.query_id, "self-check")
}
