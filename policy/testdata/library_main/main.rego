package fedmesh

decision := data.fedmesh.compose.decision
