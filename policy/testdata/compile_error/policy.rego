package fedmesh

decision := {"allow": undefined_var}
