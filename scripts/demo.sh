#!/usr/bin/env bash
# Runs a local fedmesh federation: three DuckDB site agents and a coordinator
# on 127.0.0.1, an allowed query, a denied one, and audit verification.
# Everything it starts is stopped on exit. Used by `make demo`.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin}
DIR=${DEMO_DIR:-$PWD/.demo}
BASE_PORT=${DEMO_BASE_PORT:-7101}
COORD="http://127.0.0.1:$((BASE_PORT - 1))"
SITES=(a b c)
PIDS=()

cleanup() {
  local code=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $code -ne 0 ]; then
    echo "demo failed (exit $code); process logs are in $DIR/*.stderr" >&2
  fi
  exit $code
}
trap cleanup EXIT INT TERM

# wait_port HOST PORT NAME: wait up to 30 s for a listener.
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$3 did not start listening on $1:$2; see $DIR/$3.stderr" >&2
  tail -n 20 "$DIR/$3.stderr" >&2 || true
  return 1
}

heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DIR"
heading "Setting up a dev trust domain, sample data and configs in $DIR"
"$BIN/fedctl" demo init --dir "$DIR" --sites "$(IFS=,; echo "${SITES[*]}")" --base-port "$BASE_PORT"

heading "Starting three site agents and the coordinator on 127.0.0.1"
for i in "${!SITES[@]}"; do
  s=${SITES[$i]}
  "$BIN/site-agent" -config "$DIR/site-$s.yaml" 2>"$DIR/site-$s.stderr" &
  PIDS+=($!)
done
"$BIN/coordinator" -config "$DIR/coordinator.yaml" 2>"$DIR/coordinator.stderr" &
PIDS+=($!)
for i in "${!SITES[@]}"; do wait_port 127.0.0.1 $((BASE_PORT + i)) "site-${SITES[$i]}"; done
wait_port 127.0.0.1 $((BASE_PORT - 1)) coordinator
echo "sites ${SITES[*]} and coordinator are up"

export FEDMESH_COORDINATOR=$COORD
TOKEN_FILE=$DIR/analyst.token

ALLOWED="SELECT region, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS avg_amount FROM sales WHERE year = 2022 GROUP BY region ORDER BY region"
heading "1. An allowed federated query"
echo "$ fedctl query \"$ALLOWED\""
"$BIN/fedctl" query --token-file "$TOKEN_FILE" --purpose "demo: regional revenue" "$ALLOWED"

DENIED="SELECT * FROM sales"
heading "2. A query the sites refuse"
echo "$ fedctl query \"$DENIED\""
if "$BIN/fedctl" query --token-file "$TOKEN_FILE" --purpose "demo: raw rows" "$DENIED"; then
  echo "expected the sites to refuse raw rows, but the query succeeded" >&2
  exit 1
fi

DP="SELECT segment, COUNT(*) AS customers, AVG(birth_year) AS avg_birth_year FROM customers GROUP BY segment ORDER BY segment"
heading "3. A differentially private query on a protected table"
echo "customers is protected at every site: answers carry calibrated noise, and each site charges"
echo "the analyst's own budget (verified from the analyst's signed credential, not the coordinator's word)."
ALICE_JWT=$("$BIN/fedctl" token --key "$DIR/certs/analyst-issuer-key.jwk" --sub alice --ttl 15m 2>/dev/null)
echo "$ fedctl query --epsilon 0.5 \"$DP\""
"$BIN/fedctl" query --token "$ALICE_JWT" --epsilon 0.5 --purpose "demo: segments" "$DP"
echo "$ fedctl budget customers"
"$BIN/fedctl" budget --token "$ALICE_JWT" customers

heading "4. Verifying every process's audit log"
LOGS=("$DIR/audit/coordinator.log")
for s in "${SITES[@]}"; do LOGS+=("$DIR/audit/site-$s.log"); done
KEYS=("$DIR"/audit-keys/*.pub.pem)
"$BIN/fedctl" audit verify --federation --key "$(IFS=,; echo "${KEYS[*]}")" "${LOGS[@]}"

heading "Done: the demo federation stops now (files stay in $DIR)"
