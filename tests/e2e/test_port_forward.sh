#!/usr/bin/env bash
# `kubectl port-forward` against a whole ephemeral cluster: a busybox pod
# whose web server listens on the pod's 127.0.0.1 only (so only a connection
# made inside the pod's network namespace reaches it) and an echo server.
# Through pod/NAME and svc/NAME forwards: HTTP answers, a 1 MiB body intact,
# connections one after another and 8 at once, bytes both ways with the
# client's EOF passed on (the echo ends and the client sees EOF); the same
# over kubectl's SPDY fallback (KUBECTL_PORT_FORWARD_WEBSOCKETS=false); a port
# where nothing listens gives the kubelet's error text in kubectl's output
# (after which kubectl 1.32 gives up, "lost connection to pod", as it does
# against Kubernetes); the official Python client's WebSocket channel
# protocol, with three ports at once; a pod that does not exist, the API's 404.
# Traffic goes only to 127.0.0.1 (kubectl's local ports) and, by the cluster
# itself, to its own pod.
source "$(dirname "$0")/kube_lib.sh"
require_root

PF_PIDS=()
pf_cleanup() {
  local p
  for p in "${PF_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  cleanup
}
trap pf_cleanup EXIT

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
start_cluster
run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox.tar"
expect_eq "image load" "Loaded image: busybox:latest" "$out"

k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: pf
  labels: {app: pf}
spec:
  containers:
  - name: web
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-pf > /www/index.html && head -c 1048576 /dev/urandom > /www/big && httpd -f -p 127.0.0.1:8080 -h /www"]
  - name: echo
    image: busybox:latest
    command: ["nc", "-ll", "-p", "9000", "-e", "cat"]
---
apiVersion: v1
kind: Service
metadata:
  name: pf
spec:
  selector: {app: pf}
  ports:
  - {name: http, port: 80, targetPort: 8080}
EOF
run_capture out k wait --for=condition=Ready pod/pf --timeout=60s
expect_eq "pod becomes Ready" "pod/pf condition met" "$out"
# httpd writes its files before it listens: wait until the pod serves.
wait_for 20 k exec pf -c web -- wget -q -O /dev/null http://127.0.0.1:8080/ || true
IP=$(k get pod pf -o jsonpath='{.status.podIP}')
run_capture out curl -s --max-time 3 "http://$IP:8080/"
expect_eq "the web server is not on the pod's IP (only its loopback)" 7 "$RC"

# start_forward NAME ARGS...: `kubectl port-forward ARGS` in the background,
# output in $E2E_TMP/NAME.out; waits for its "Forwarding from" line.
start_forward() {
  local name=$1; shift
  "$KUBECTL" --kubeconfig "$KUBECONFIG" port-forward "$@" >"$E2E_TMP/$name.out" 2>&1 &
  PF_PIDS+=($!)
  LAST_PF=$!
  if ! wait_for 20 grep -q "^Forwarding from 127.0.0.1:" "$E2E_TMP/$name.out"; then
    fail "$name: kubectl port-forward did not start"
    sed 's/^/    /' "$E2E_TMP/$name.out" >&2
    return 1
  fi
}

# echo_roundtrip PORT TEXT: sends TEXT (or, for "@N", N bytes of a pattern),
# half-closes, then prints all that comes back until EOF ("TIMEOUT" appended
# if it stops short); for "@N", "same N" when the N bytes came back unchanged.
echo_roundtrip() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys
arg = sys.argv[2]
data = bytes(i % 251 for i in range(int(arg[1:]))) if arg.startswith("@") else arg.encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    out += b"TIMEOUT"
if arg.startswith("@"):
    print("same %d" % len(out) if out == data else "differs: %d bytes back" % len(out), end="")
else:
    print(out.decode(errors="replace"), end="")
PY
}

WANT_SUM=$(k exec pf -c web -- sha256sum /www/big | cut -d' ' -f1)

# ---- pod/NAME, WebSocket (kubectl's default) ----
LP=$(free_port)
EP=$(free_port)
if start_forward pod-ws "pod/pf" "$LP:8080" "$EP:9000"; then
  out=$(cat "$E2E_TMP/pod-ws.out")
  expect_contains "kubectl says what it forwards" "Forwarding from 127.0.0.1:$LP -> 8080" "$out"
  run_capture out curl -s --max-time 10 "http://127.0.0.1:$LP/"
  expect_eq "pod/pf: the pod's loopback web server answers" "hello-from-pf" "$out"
  ok=0
  for i in 1 2 3 4 5; do
    [ "$(curl -s --max-time 10 "http://127.0.0.1:$LP/")" = hello-from-pf ] && ok=$((ok + 1))
  done
  expect_eq "pod/pf: 5 connections one after another" 5 "$ok"
  for i in 1 2 3 4 5 6 7 8; do
    curl -s --max-time 20 -o "$E2E_TMP/par.$i" "http://127.0.0.1:$LP/big" &
  done
  wait_all=0
  for j in $(jobs -p); do
    case " ${PF_PIDS[*]} " in *" $j "*) continue ;; esac
    wait "$j" || wait_all=1
  done
  ok=0
  for i in 1 2 3 4 5 6 7 8; do
    [ "$(sha256sum <"$E2E_TMP/par.$i" | cut -d' ' -f1)" = "$WANT_SUM" ] && ok=$((ok + 1))
  done
  expect_eq "pod/pf: 8 connections at once, each 1 MiB intact" 8 "$ok"
  run_capture out echo_roundtrip "$EP" "ping-through-the-tunnel"
  expect_eq "echo: bytes both ways, the client's EOF ends the echo" "ping-through-the-tunnel" "$out"
  run_capture out echo_roundtrip "$EP" @3000000
  expect_eq "echo: 3 MB both ways at once, intact" "same 3000000" "$out"
  # kubectl pings every 10 s over the tunnel: an idle forward must outlive that.
  sleep 12
  run_capture out curl -s --max-time 10 "http://127.0.0.1:$LP/"
  expect_eq "pod/pf: still answers after 12 s idle" "hello-from-pf" "$out"
  check "kubectl port-forward still runs" kill -0 "$LAST_PF"
  out=$(cat "$E2E_TMP/pod-ws.out")
  expect_contains "kubectl notes each connection" "Handling connection for $LP" "$out"
  if grep -q "error\|E[0-9]\{4\}" <<<"$out"; then
    fail "no errors in kubectl's output:"; sed 's/^/    /' <<<"$out" >&2
  else pass "no errors in kubectl's output"; fi
fi

# ---- svc/NAME (kubectl picks a pod and maps port 80 to its 8080) ----
SP=$(free_port)
if start_forward svc "svc/pf" "$SP:80"; then
  expect_contains "svc/pf: kubectl maps the service port to the pod's" \
    "Forwarding from 127.0.0.1:$SP -> 8080" "$(cat "$E2E_TMP/svc.out")"
  run_capture out curl -s --max-time 10 "http://127.0.0.1:$SP/"
  expect_eq "svc/pf: answers through the service's pod" "hello-from-pf" "$out"
fi

# ---- kubectl's SPDY fallback ----
FP=$(free_port)
if KUBECTL_PORT_FORWARD_WEBSOCKETS=false start_forward spdy "pod/pf" "$FP:8080"; then
  run_capture out curl -s --max-time 10 "http://127.0.0.1:$FP/"
  expect_eq "SPDY upgrade: the pod answers" "hello-from-pf" "$out"
  run_capture out curl -s --max-time 20 "http://127.0.0.1:$FP/big" -o "$E2E_TMP/spdy.big"
  expect_eq "SPDY upgrade: 1 MiB intact" "$WANT_SUM" "$(sha256sum <"$E2E_TMP/spdy.big" | cut -d' ' -f1)"
fi

# ---- a port where nothing listens ----
NP=$(free_port)
if start_forward refused "pod/pf" "$NP:8081"; then
  run_capture out curl -s --max-time 10 "http://127.0.0.1:$NP/"
  check "curl gets no answer" test "$RC" -ne 0
  wait_for 10 grep -q "connection refused" "$E2E_TMP/refused.out" || true
  out=$(cat "$E2E_TMP/refused.out")
  UID_=$(k get pod pf -o jsonpath='{.metadata.uid}')
  expect_contains "kubectl prints the kubelet's error" \
    "an error occurred forwarding $NP -> 8081: error forwarding port 8081 to pod $UID_, uid : " "$out"
  expect_contains "... why: nothing listens" "127.0.0.1:8081: connect: connection refused" "$out"
  # kubectl (client-go since 1.23) ends the whole forward after an error on
  # an error stream, as it does against Kubernetes' kubelet.
  RC="still running"
  for _ in $(seq 1 50); do
    # Gone, or a zombie bash has not reaped yet.
    if ! kill -0 "$LAST_PF" 2>/dev/null || [ "$(ps -o stat= -p "$LAST_PF" | cut -c1)" = Z ]; then
      set +e
      wait "$LAST_PF"
      RC=$?
      set -e
      break
    fi
    sleep 0.2
  done
  expect_eq "kubectl exits after the error, as with Kubernetes" 1 "$RC"
  expect_contains "... saying so" "error: lost connection to pod" "$(cat "$E2E_TMP/refused.out")"
fi

# ---- the official Python client (WebSocket v4.channel.k8s.io, one channel pair per port) ----
cat >"$E2E_TMP/pf.py" <<'PY'
import select, socket, sys, time, types
from kubernetes import client, config
from kubernetes.stream import portforward, ws_client


# python3-kubernetes 22.6's PortForward select()s on the WebSocket's raw socket,
# so frames that arrived in one TLS record with an earlier one sit decrypted in
# the TLS buffer and wake nobody. Any apiserver that copies the kubelet's
# bytes as they come can put two frames in one record (the port frames are
# sent back to back); here a reply was then missed in 5 runs of 12. This
# makes the client see what it was sent; the frames themselves are right.
def select_seeing_tls_buffers(r, w, x, *timeout):
    ready = [s for s in r if getattr(getattr(s, "sock", None), "pending", lambda: 0)()]
    return (ready, [], []) if ready else select.select(r, w, x, *timeout)


ws_client.select = types.SimpleNamespace(select=select_seeing_tls_buffers)
v1 = client.CoreV1Api(config.new_client_from_config(config_file=sys.argv[1]))
pf = portforward(v1.connect_get_namespaced_pod_portforward, "pf", "default", ports="8080,9000,8081")
web = pf.socket(8080)
web.settimeout(5)
web.sendall(b"GET / HTTP/1.0\r\nHost: pf\r\n\r\n")
answer = b""
try:
    while b"hello-from-pf" not in answer:
        chunk = web.recv(4096)
        if not chunk:
            break
        answer += chunk
except socket.timeout:
    pass
print("web:", answer.decode(errors="replace").splitlines()[-1] if answer else "")
echo = pf.socket(9000)
echo.settimeout(5)
echo.sendall(b"ping through python\n")
got = b""
try:
    while not got.endswith(b"\n"):
        chunk = echo.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
print("echo:", got.decode(errors="replace").strip())
time.sleep(0.3)
print("8081:", pf.error(8081))
PY
run_capture out timeout 30 /usr/bin/python3 "$E2E_TMP/pf.py" "$KUBECONFIG"
expect_contains "Python client: the pod's loopback web server answers" "web: hello-from-pf" "$out"
expect_contains "Python client: a second port at once (the echo server)" \
  "echo: ping through python" "$out"
expect_contains "Python client: a port where nothing listens gets the error on its channel" \
  "8081: error forwarding port 8081 to pod" "$out"

# ---- errors from the API ----
run_capture out k port-forward pod/nope 18080:8080
expect_contains "a pod that does not exist" 'pods "nope" not found' "$out"
run_capture out k get --raw /api/v1
expect_contains "discovery lists pods/portforward" '"name":"pods/portforward"' "$out"

finish
