# Shared helpers for end-to-end tests: start a real `skiff apiserver` on a free
# loopback port in a fresh temporary data directory, drive it with real kubectl,
# and clean up (by PID, and the temp dir) however the test ends.
#
# Usage in a test:  source "$(dirname "$0")/kube_lib.sh"; start_apiserver; ...; finish
set -euo pipefail

SKIFF=${SKIFF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/skiff}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
E2E_TMP=$(mktemp -d /tmp/skiff-e2e.XXXXXX)
SERVER_PID=""
PASSED=0
FAILED=0

CLUSTER_DATA=""

cleanup() {
  if [ -n "$CLUSTER_DATA" ]; then
    "$SKIFF" down --data-dir "$CLUSTER_DATA" >/dev/null 2>&1 || true
  fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_apiserver [DATA_DIR]: starts the server and exports PORT, DATA, KUBECONFIG.
start_apiserver() {
  DATA=${1:-$E2E_TMP/data}
  PORT=${PORT:-$(free_port)}
  "$SKIFF" apiserver --data-dir "$DATA" --listen "127.0.0.1:$PORT" >>"$E2E_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if curl -sk --max-time 1 "https://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q ok; then
      export KUBECONFIG="$DATA/kubeconfig" PORT DATA
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "apiserver did not become ready; log:" >&2
  cat "$E2E_TMP/server.log" >&2
  exit 1
}

# start_cluster [skiff up flags...]: a whole ephemeral cluster (apiserver,
# controllers, scheduler, netproxy, kubelet) with kernel names of its own, as
# `skiff up --ephemeral --detach`; exports KUBECONFIG and DATA. Needs root.
# `skiff down` (at exit at the latest) removes every trace.
start_cluster() {
  local out
  if ! out=$("$SKIFF" up --ephemeral --detach --listen 127.0.0.1:0 --no-fsync "$@" 2>&1); then
    echo "skiff up failed: $out" >&2
    exit 1
  fi
  KUBECONFIG=${out##*kubeconfig: }
  DATA=$(dirname "$KUBECONFIG")
  CLUSTER_DATA=$DATA
  export KUBECONFIG DATA
}

# stop_cluster: `skiff down`, keeping the log in $E2E_TMP/server.log.
stop_cluster() {
  if [ -n "$CLUSTER_DATA" ]; then
    cp "$CLUSTER_DATA/skiff.log" "$E2E_TMP/server.log" 2>/dev/null || true
    "$SKIFF" down --data-dir "$CLUSTER_DATA"
    CLUSTER_DATA=""
  fi
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

stop_apiserver() {
  local sig=${1:-TERM}
  if [ -n "$SERVER_PID" ]; then
    kill -"$sig" "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*" >&2; }

# check NAME COMMAND...: the command must succeed.
check() {
  local name=$1; shift
  if "$@" >"$E2E_TMP/out" 2>&1; then pass "$name"; else
    fail "$name"; sed 's/^/    /' "$E2E_TMP/out" >&2; fi
}

# expect_contains NAME NEEDLE TEXT
expect_contains() {
  if grep -qF -- "$2" <<<"$3"; then pass "$1"; else
    fail "$1: expected to find [$2] in:"; sed 's/^/    /' <<<"$3" >&2; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

# run_capture VAR COMMAND...: runs COMMAND, stores combined output in VAR and the
# exit code in RC, never aborting the test.
run_capture() {
  local __var=$1; shift
  set +e
  local __out
  __out=$("$@" 2>&1)
  RC=$?
  set -e
  printf -v "$__var" '%s' "$__out"
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -ne 0 ]; then
    if [ -n "$CLUSTER_DATA" ]; then cp "$CLUSTER_DATA/skiff.log" "$E2E_TMP/server.log" 2>/dev/null || true; fi
    echo "--- server log (tail) ---" >&2
    tail -n 40 "$E2E_TMP/server.log" >&2 || true
    exit 1
  fi
}
