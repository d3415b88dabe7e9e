#!/usr/bin/env bash
# Starts the test MariaDB (scripts/engines/mariadb.sh) and records its DSNs
# in $FEDMESH_CACHE/env/mariadb.env for enginebridge's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
bash scripts/engines/mariadb.sh up
bash scripts/engines/mariadb.sh env > "$CACHE/env/mariadb.env"
echo "mariadb: $(head -1 "$CACHE/env/mariadb.env" | sed 's/:[^:@]*@/:***@/')"
