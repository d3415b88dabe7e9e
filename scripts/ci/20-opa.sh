#!/usr/bin/env bash
# Installs the stock OPA binary, so that CI proves fedmesh's policy bundles and
# library are plain OPA: `opa test policy/library policy/bundles/default` runs
# from policy's Go tests (TestStockOPA) with $FEDMESH_CACHE/bin/opa.
set -euo pipefail
export GOTOOLCHAIN=local
OPA_VERSION=v1.22.2
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
BIN="$CACHE/bin"
mkdir -p "$BIN" "$CACHE/env"
if [ -x "$BIN/opa" ] && "$BIN/opa" version 2>/dev/null | grep -q "^Version: ${OPA_VERSION#v}$"; then
	echo "opa ${OPA_VERSION} already installed at $BIN/opa"
else
	GOBIN="$BIN" go install "github.com/open-policy-agent/opa@${OPA_VERSION}"
	"$BIN/opa" version | head -1
fi
echo "FEDMESH_OPA=$BIN/opa" >"$CACHE/env/opa.env"
