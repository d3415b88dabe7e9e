package fedmesh

# Allows everything with k = 5: custom bundles may do this (with a warning).
decision := {"allow": true, "reasons": ["fedmesh.test: everything goes"], "obligations": {"min_group_size": 5, "deny_columns": ["ssn"], "max_groups": 100}}
