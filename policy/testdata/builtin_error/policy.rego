package fedmesh

# Without strict builtin errors, to_number("not a number") would be
# undefined, the deny rule would not fire, and the request would be allowed.
deny contains "fedmesh.purpose_code: negative purpose code" if {
	input.query_id == "boom"
	to_number(input.purpose) < 0
}

default allow := false

allow if count(deny) == 0

decision := {"allow": allow, "reasons": sort(deny), "obligations": {"min_group_size": 10}}
