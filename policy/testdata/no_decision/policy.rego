package fedmesh

allow := true
