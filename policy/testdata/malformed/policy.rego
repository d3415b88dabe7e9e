package fedmesh

# Well-formed for the self-check samples, malformed for everything else.
decision := {"allow": false, "reasons": ["fedmesh.test: self-check"]} if startswith(input.query_id, "self-check")

decision := {"allow": "yes", "reasons": []} if not startswith(input.query_id, "self-check")
