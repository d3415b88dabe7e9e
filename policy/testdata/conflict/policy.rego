package fedmesh

# Two complete definitions that disagree when the query id is "boom": OPA
# raises a conflict error at evaluation time.
decision := {"allow": false, "reasons": ["fedmesh.test: deny"], "obligations": {"min_group_size": 10}}

decision := {"allow": true, "reasons": [], "obligations": {"min_group_size": 10}} if input.query_id == "boom"
