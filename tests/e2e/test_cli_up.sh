#!/usr/bin/env bash
# skiff up / down: the ready line, --detach with a pid file, --ephemeral leaves
# no trace, and the time to ready (goal <= 150 ms).
set -euo pipefail
SKIFF=${SKIFF:-$(cd "$(dirname "$0")/../.." && pwd)/build/skiff}
T=$(mktemp -d /tmp/skiff-e2e-up.XXXXXX)
PASSED=0; FAILED=0
cleanup() {
  for f in "$T"/d/skiff.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  if [ -n "${EPH_PID:-}" ]; then kill "$EPH_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*" >&2; }
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

P=$(port)
out=$("$SKIFF" up --disable kubelet,netproxy --data-dir "$T/d" --listen "127.0.0.1:$P" --detach)
if [[ "$out" =~ ^skiff\ ready\ in\ ([0-9]+)\ ms\ —\ kubeconfig:\ $T/d/kubeconfig$ ]]; then
  pass "ready line ($out)"; else fail "ready line: [$out]"; fi
[ -f "$T/d/skiff.pid" ] && kill -0 "$(cat "$T/d/skiff.pid")" && pass "pid file names a live process" || fail "pid file"
[ -f "$T/d/skiff.log" ] && pass "log file" || fail "log file"
"$SKIFF" get ns --kubeconfig "$T/d/kubeconfig" | grep -q '^default ' && pass "cluster answers" || fail "cluster answers"
if "$SKIFF" up --disable kubelet,netproxy --data-dir "$T/d" --listen "127.0.0.1:$P" --detach 2>"$T/err"; then fail "second up should fail"; else
  grep -q "already running" "$T/err" && pass "second up refused" || fail "second up message: $(cat "$T/err")"; fi
pid=$(cat "$T/d/skiff.pid")
"$SKIFF" down --data-dir "$T/d" >/dev/null && pass "down exits 0" || fail "down"
kill -0 "$pid" 2>/dev/null && fail "process still alive after down" || pass "process gone after down"
[ -f "$T/d/skiff.pid" ] && fail "pid file left behind" || pass "pid file removed"
if "$SKIFF" down --data-dir "$T/d" 2>/dev/null; then fail "down with nothing running should fail"; else pass "down with nothing running exits 1"; fi

# Warm restart in the same directory: the ready time.
best=999999
for _ in 1 2 3; do
  out=$("$SKIFF" up --disable kubelet,netproxy --data-dir "$T/d" --listen "127.0.0.1:0" --detach)
  ms=$(sed -E 's/skiff ready in ([0-9]+) ms.*/\1/' <<<"$out")
  [ "$ms" -lt "$best" ] && best=$ms
  "$SKIFF" down --data-dir "$T/d" >/dev/null
done
echo "# skiff up --detach (existing data dir) to ready: best ${best} ms (goal <= 150)"
[ "$best" -le 1000 ] && pass "up is fast (${best} ms)" || fail "up took ${best} ms"

# --ephemeral: a fresh directory, removed on down.
out=$(TMPDIR=$T "$SKIFF" up --ephemeral --detach --listen 127.0.0.1:0)
dir=$(sed -E 's/.*kubeconfig: (.*)\/kubeconfig$/\1/' <<<"$out")
echo "# $out"
[ -d "$dir" ] && [[ "$dir" == "$T"/skiff-* ]] && pass "ephemeral dir created" || fail "ephemeral dir [$dir]"
EPH_PID=$(cat "$dir/skiff.pid")
# As root the cluster has a netproxy: its ranges are routed `unreachable`, the
# host's own connections reach a ClusterIP through the cluster's bridge, and
# once the cluster is gone they get "No route to host" (nothing routed out).
connect() {  # prints "connected" or the error
  /usr/bin/python3 -c 'import socket,sys
s=socket.socket(); s.settimeout(2)
try: s.connect((sys.argv[1],53)); print("connected")
except OSError as e: print(e.strerror or e)' "$1"
}
if [ "$(id -u)" = 0 ]; then
  dns=$("$SKIFF" --kubeconfig "$dir/kubeconfig" -n kube-system get svc kube-dns -o 'jsonpath={.spec.clusterIP}')
  routes=$(ip -4 route show type unreachable)
  grep -qx 'unreachable 10.96.0.0/12 *' <<<"$routes" && pass "unreachable route for the service range" ||
    fail "no unreachable route for 10.96.0.0/12: [$routes]"
  grep -qx 'unreachable 10.255.0.0/16 *' <<<"$routes" && pass "unreachable route for the LoadBalancer pools" ||
    fail "no unreachable route for 10.255.0.0/16: [$routes]"
  out=$(connect "$dns")
  [ "$out" = connected ] && pass "the host reaches the kube-dns ClusterIP $dns" || fail "host -> $dns: $out"
fi
TMPDIR=$T "$SKIFF" down >/dev/null && pass "bare down stops the ephemeral cluster" || fail "ephemeral down"
if [ "$(id -u)" = 0 ]; then
  out=$(connect "$dns")
  [ "$out" = "No route to host" ] && pass "after down, $dns is unreachable (not routed out)" ||
    fail "after down, host -> $dns: $out"
fi
[ -e "$dir" ] && fail "ephemeral dir left behind" || pass "ephemeral dir removed"
kill -0 "$EPH_PID" 2>/dev/null && fail "ephemeral process alive" || pass "ephemeral process gone"
EPH_PID=""

# Foreground: Ctrl-C stops it.
P=$(port)
"$SKIFF" up --disable kubelet,netproxy --data-dir "$T/f" --listen "127.0.0.1:$P" >"$T/fg.out" 2>"$T/fg.err" &
FG=$!
for _ in $(seq 1 100); do grep -q "skiff ready" "$T/fg.out" && break; sleep 0.05; done
grep -q "skiff ready in" "$T/fg.out" && pass "foreground ready line" || fail "foreground ready"
kill -INT "$FG"; wait "$FG" && pass "foreground exits 0 on SIGINT" || fail "foreground exit code"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
