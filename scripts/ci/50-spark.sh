#!/usr/bin/env bash
# Installs Spark 4.0 (pyspark wheel from PyPI), starts its Spark Connect
# server (scripts/engines/spark.sh) and records its URL in
# $FEDMESH_CACHE/env/spark.env for enginebridge's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
bash scripts/engines/spark.sh up
bash scripts/engines/spark.sh env > "$CACHE/env/spark.env"
echo "spark: $(head -1 "$CACHE/env/spark.env")"
