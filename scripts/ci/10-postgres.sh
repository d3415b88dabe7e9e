#!/usr/bin/env bash
# Starts the test PostgreSQL (scripts/engines/postgres.sh) and records its
# DSNs in $FEDMESH_CACHE/env/postgres.env for enginebridge's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
bash scripts/engines/postgres.sh up
bash scripts/engines/postgres.sh env > "$CACHE/env/postgres.env"
echo "postgres: $(head -1 "$CACHE/env/postgres.env" | sed 's/:[^:@]*@/:***@/')"
