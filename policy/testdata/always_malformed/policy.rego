package fedmesh

# Allows without saying what the minimum group size is.
decision := {"allow": true, "reasons": []}
