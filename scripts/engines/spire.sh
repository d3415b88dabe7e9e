#!/usr/bin/env bash
# scripts/engines/spire.sh build|env|status
#
# SPIRE server and agent binaries for fedmesh's workload-identity tests, built
# from the Go module proxy (github.com/spiffe/spire@v1.13.0, the only version
# served here) in a throw-away wrapper module under $FEDMESH_CACHE/build/spire,
# outside the fedmesh module. SPIRE's own go.sum is appended to the wrapper's:
# a few checksum lookups fail otherwise. Binaries land in $FEDMESH_CACHE/bin.
# `build` is a no-op when both binaries exist and report the pinned version.
# The tests start their own server and agent (sqlite datastore, join_token
# attestor, 127.0.0.1 and a unix socket in the test's temp dir); nothing runs
# here between tests.
set -euo pipefail
export GOTOOLCHAIN=local

SPIRE_VERSION=v1.13.0
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
BIN="$CACHE/bin"
WRAP="$CACHE/build/spire"

have() {
  [ -x "$BIN/spire-server" ] && [ -x "$BIN/spire-agent" ] &&
    "$BIN/spire-server" --version 2>&1 | grep -q "^${SPIRE_VERSION#v}"
}

build() {
  if have; then
    echo "spire ${SPIRE_VERSION} already built in $BIN"
    return
  fi
  mkdir -p "$BIN" "$WRAP"
  cd "$WRAP"
  cat >tools.go <<'GO'
//go:build tools

package spirewrap

import (
	_ "github.com/spiffe/spire/cmd/spire-agent"
	_ "github.com/spiffe/spire/cmd/spire-server"
)
GO
  GOFLAGS=-mod=mod go mod download "github.com/spiffe/spire@${SPIRE_VERSION}"
  local src
  src="$(go env GOMODCACHE)/github.com/spiffe/spire@${SPIRE_VERSION}"
  # Use SPIRE's own requirement graph and checksums.
  {
    echo "module fedmesh.local/spirewrap"
    echo
    sed -n '/^go /p' "$src/go.mod"
    echo
    echo "require github.com/spiffe/spire ${SPIRE_VERSION}"
    echo
    # SPIRE's requirements and replaces, so the build sees the same versions.
    sed -e '/^module /d' -e '/^go /d' -e '/^toolchain /d' "$src/go.mod"
  } >go.mod
  touch go.sum
  cat "$src/go.sum" >>go.sum
  sort -u go.sum -o go.sum
  GOFLAGS=-mod=mod GOBIN="$BIN" nice -n 10 go install \
    -ldflags "-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION#v}" \
    github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent
  "$BIN/spire-server" --version 2>&1 | head -1
}

envout() {
  echo "FEDMESH_SPIRE_SERVER=$BIN/spire-server"
  echo "FEDMESH_SPIRE_AGENT=$BIN/spire-agent"
}

case "${1:-}" in
  build) build ;;
  env) envout ;;
  status) if have; then echo "spire: built in $BIN"; else echo "spire: not built"; exit 1; fi ;;
  *) echo "usage: $0 build|env|status" >&2; exit 2 ;;
esac
