#!/usr/bin/env bash
# Builds (once, cached; 12+ minutes cold) and starts the Vault dev server of
# scripts/engines/vault.sh, and records VAULT_ADDR/VAULT_TOKEN in
# $FEDMESH_CACHE/env/vault.env for the tests of internal/secrets, the agent
# and the e2e federation on real engines.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
bash scripts/engines/vault.sh up
bash scripts/engines/vault.sh env > "$CACHE/env/vault.env"
echo "vault: $(head -1 "$CACHE/env/vault.env")"
