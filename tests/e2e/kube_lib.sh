# Shared helpers for end-to-end tests: start a real `skiff apiserver` on a free
# loopback port in a fresh temporary data directory, drive it with real kubectl,
# and clean up (by PID, and the temp dir) however the test ends.
#
# Usage in a test:  source "$(dirname "$0")/kube_lib.sh"; start_apiserver; ...; finish
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)  # the repository
SKIFF=${SKIFF:-$ROOT/build/skiff}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
E2E_TMP=$(mktemp -d /tmp/skiff-e2e.XXXXXX)
# skiff keeps its discovery cache here, not in the home directory.
export XDG_CACHE_HOME="$E2E_TMP/cache"
SERVER_PID=""
PASSED=0
FAILED=0

CLUSTER_DATA=""

# require_root: a test that needs root ends here, as a pass, when not root.
require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root"
    exit 0
  fi
}
LASTING_DATA=""
LASTING_PARENTS_BEFORE=""

cleanup() {
  if [ -n "$LASTING_DATA" ]; then lasting_teardown; fi
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

# cluster_tag DIR: the suffix of an ephemeral cluster's kernel names (bridge
# sk-TAG, table skiff_TAG), derived from its directory as ctl/cmd_up.cpp does.
cluster_tag() { basename "$1" | sed 's/^skiff-//' | tr 'A-Z' 'a-z'; }

# stop_cluster: `skiff down`, keeping the log in $E2E_TMP/server.log.
stop_cluster() {
  if [ -n "$CLUSTER_DATA" ]; then
    cp "$CLUSTER_DATA/skiff.log" "$E2E_TMP/server.log" 2>/dev/null || true
    "$SKIFF" down --data-dir "$CLUSTER_DATA"
    CLUSTER_DATA=""
  fi
}

# start_lasting_cluster: a whole cluster that survives `kill -9` of `skiff up`
# and a restart on the same data directory (an --ephemeral one removes its
# directory). The directory is under $E2E_TMP; the bridge, nft table and pod
# /24 are named for this test (a /24 no local address uses yet), so it meets
# no other cluster; its runc root, cgroup parent and netns prefix are a
# lasting cluster's defaults (ctl/cluster.h), where its objects are told apart
# by pod UID. Exports KUBECONFIG, DATA, BRIDGE, TABLE, POD_CIDR. Needs root.
# Such a cluster leaves its pods running on `skiff down`: the exit trap
# deletes them through the API, then removes by hand whatever is left.
LASTING_RUNC_ROOT=/run/skiff/runc
start_lasting_cluster() {
  local tag subnet
  tag=r$(tr -dc 'a-z0-9' </dev/urandom | head -c 6 || true)
  for _ in $(seq 1 50); do
    subnet=$((RANDOM % 200 + 30))
    grep -q " inet 10\.244\.$subnet\." <<<"$(ip -4 -o addr)" || break
  done
  BRIDGE=sk-$tag
  TABLE=skiff_$tag
  POD_CIDR=10.244.$subnet.0/24
  LASTING_DATA=$E2E_TMP/cluster
  DATA=$LASTING_DATA
  LASTING_FLAGS=(--data-dir "$LASTING_DATA" --listen "127.0.0.1:$(free_port)" --no-fsync
    --bridge "$BRIDGE" --nft-table "$TABLE" --pod-cidr "$POD_CIDR")
  KUBECONFIG=$LASTING_DATA/kubeconfig
  export KUBECONFIG DATA BRIDGE TABLE POD_CIDR
  # The shared parents the cluster may create (removed again if still empty).
  LASTING_PARENTS_BEFORE=$(ls -d /run/skiff /run/skiff/runc /sys/fs/cgroup/*/skiff 2>/dev/null || true)
  lasting_up || exit 1
}

# lasting_up: (re)starts the lasting cluster, detached; fails with skiff's text.
lasting_up() {
  local out
  if ! out=$("$SKIFF" up --detach "${LASTING_FLAGS[@]}" 2>&1); then
    echo "skiff up failed: $out" >&2
    return 1
  fi
}

# kill_lasting_up: kill -9 of the lasting cluster's `skiff up`, returning once
# the process is gone (until init reaps it, `skiff up` takes the pid file's
# process for a live one and refuses to start).
kill_lasting_up() {
  local pid
  pid=$(cat "$LASTING_DATA/skiff.pid")
  kill -9 "$pid"
  wait_for 10 sh -c "! kill -0 $pid" || true
}

# Pods through the API, then whatever is left of them in the kernel (found
# from the data directory), the table and the bridge.
lasting_teardown() {
  local d id uid cg
  if [ -f "$LASTING_DATA/skiff.pid" ] && kill -0 "$(cat "$LASTING_DATA/skiff.pid")" 2>/dev/null; then
    "$KUBECTL" --kubeconfig "$KUBECONFIG" delete deploy,rs --all --wait=false >/dev/null 2>&1 || true
    "$KUBECTL" --kubeconfig "$KUBECONFIG" delete pods --all --grace-period=0 --timeout=60s \
      >/dev/null 2>&1 || true
    "$SKIFF" down --data-dir "$LASTING_DATA" >/dev/null 2>&1 || true
  fi
  for d in "$LASTING_DATA"/pods/*/; do
    [ -d "$d" ] || continue
    uid=$(basename "$d")
    for id in $(ls "$d/containers" 2>/dev/null); do
      runc --root "$LASTING_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
      for cg in /sys/fs/cgroup/*/skiff/"$id"; do
        if [ -d "$cg" ]; then rmdir "$cg" 2>/dev/null || true; fi
      done
    done
    ip netns del "skiff-$uid" 2>/dev/null || true
  done
  # Mounts under the data directory (overlay roots...), deepest first.
  awk -v p="$LASTING_DATA/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  nft delete table ip "$TABLE" 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  for d in /sys/fs/cgroup/*/skiff "$LASTING_RUNC_ROOT" /run/skiff; do
    if [ -d "$d" ] && ! grep -qxF "$d" <<<"$LASTING_PARENTS_BEFORE"; then rmdir "$d" 2>/dev/null || true; fi
  done
  LASTING_DATA=""
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
    if [ -n "$LASTING_DATA" ]; then cp "$LASTING_DATA/skiff.log" "$E2E_TMP/server.log" 2>/dev/null || true; fi
    echo "--- server log (tail) ---" >&2
    tail -n 40 "$E2E_TMP/server.log" >&2 || true
    exit 1
  fi
}
