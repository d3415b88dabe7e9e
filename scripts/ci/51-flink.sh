#!/usr/bin/env bash
# Starts the test Flink session cluster and SQL Gateway
# (scripts/engines/flink.sh) and records their URLs in
# $FEDMESH_CACHE/env/flink.env for enginebridge's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
bash scripts/engines/flink.sh up
bash scripts/engines/flink.sh env > "$CACHE/env/flink.env"
echo "flink: $(head -1 "$CACHE/env/flink.env")"
