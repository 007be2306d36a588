#!/usr/bin/env bash
# Services end to end, with real pods and real connections (issue 5's "Done
# when"): a Deployment behind a multi-port ClusterIP (answers spread over the
# replicas), NodePort on 127.0.0.1 and on the node's InternalIP, type changes
# ClusterIP -> NodePort -> LoadBalancer -> ClusterIP and ExternalName <->
# ClusterIP/NodePort, ClientIP session affinity on a ClusterIP and a NodePort
# (15 identical answers, a 5 s timeout, switched off and on), the NodePort
# collision and range errors, NodePorts released on delete, no endpoints ->
# refused at once, a selector-less Service whose hand-written Endpoints point
# at a server in a network namespace this test made, hairpin, cluster DNS, a
# LoadBalancer ingress IP from the host and from a pod, netproxy killed (-9)
# and restarted under an established connection, and the API server's
# services/proxy and pods/proxy (kubectl get --raw, kubectl proxy).
#
# The cluster runs with --disable netproxy; this test runs `skiff netproxy` as
# a process of its own so it can kill it. Traffic goes only to 127.0.0.1, the
# node's own address (when it is local), the cluster's bridge, pods, service
# addresses programmed into the cluster's own table, and the test's netns.
source "$(dirname "$0")/kube_lib.sh"
require_root

NP_PID=""
EXT_NS=""
EXT_VETH=""
EXT_PID=""
TABLE=""
KP_PID=""
services_cleanup() {
  if [ -n "$KP_PID" ]; then kill "$KP_PID" 2>/dev/null || true; wait "$KP_PID" 2>/dev/null || true; fi
  if [ -n "$NP_PID" ]; then kill "$NP_PID" 2>/dev/null || true; wait "$NP_PID" 2>/dev/null || true; fi
  if [ -n "$EXT_PID" ]; then kill -9 "$EXT_PID" 2>/dev/null || true; wait "$EXT_PID" 2>/dev/null || true; fi
  if [ -n "$EXT_VETH" ]; then ip link del "$EXT_VETH" 2>/dev/null || true; fi
  if [ -n "$EXT_NS" ]; then ip netns del "$EXT_NS" 2>/dev/null || true; fi
  cleanup
  # skiff up ran without its netproxy, so the table is ours to remove.
  if [ -n "$TABLE" ]; then nft delete table ip "$TABLE" 2>/dev/null || true; fi
}
trap services_cleanup EXIT

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
start_cluster --disable netproxy
# An ephemeral cluster's kernel names derive from its directory (ctl/cmd_up.cpp).
TAG=$(cluster_tag "$DATA")
BRIDGE=sk-$TAG
TABLE=skiff_$TAG
DNS_IP=$(ip -4 -o addr show dev "$BRIDGE" | awk '{print $4}' | cut -d/ -f1)
# The cluster's slot (ctl/cluster_slot.h) gives its ranges: the bridge is
# 10.244.SLOT.1, the LoadBalancer pool 10.255.SLOT.0/24, and kube-dns the .10
# of the service range whose .1 the `kubernetes` Service holds.
SLOT=$(cut -d. -f3 <<<"$DNS_IP")
KUBE_IP=$(k get svc kubernetes -o jsonpath='{.spec.clusterIP}')
DNS_SVC=${KUBE_IP%.*}.10
run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox.tar"
expect_eq "image load" "Loaded image: busybox:latest" "$out"

start_netproxy() {
  "$SKIFF" netproxy --kubeconfig "$KUBECONFIG" --table "$TABLE" --dns-listen "$DNS_IP:53" \
    --bootstrap-dns-service "$DNS_SVC" --bridge "$BRIDGE" --lb-cidr 10.255.0.0/16 \
    --resync-seconds 5 >>"$E2E_TMP/netproxy.log" 2>&1 &
  NP_PID=$!
  wait_for 10 nft list table ip "$TABLE"
}
start_netproxy
check "netproxy programs the cluster's table" nft list table ip "$TABLE"

get() { curl -s --max-time 3 "$@"; }
# answers N URL: N requests, one answer per line (an empty line for a failure).
answers() {
  local n=$1 url=$2
  for _ in $(seq 1 "$n"); do echo "$(get "$url")"; done
}
distinct() { sort -u | grep -c .; }
# refused HOST PORT: a TCP connect is refused (not timed out) within 1 s.
refused() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
t = time.monotonic()
s = socket.socket(); s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected"); sys.exit(1)
except ConnectionRefusedError:
    ms = (time.monotonic() - t) * 1000
    print(f"refused after {ms:.0f} ms"); sys.exit(0 if ms < 1000 else 1)
except Exception as e:
    print(f"not refused: {e!r} after {time.monotonic() - t:.1f} s"); sys.exit(1)
PY
}
jp() { k get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
has_endpoints() { [ -n "$(jp ep "$1" '{.subsets[0].addresses[*].ip}')" ]; }
answers_with() { [ "$(get "$1")" = "$2" ]; }
answers_any() { [ -n "$(get "$1")" ]; }
# exec_in POD CMD...: kubectl exec, output only. In pods, `timeout 5 wget`
# rather than `wget -T 5`: Debian's static busybox 1.35 wget crashes (SIGSEGV)
# with -T.
exec_in() { k exec "$1" -- "${@:2}" 2>&1; }

# ---- a Deployment behind a multi-port ClusterIP ----------------------------
cat >"$E2E_TMP/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:latest
        command: ["sh", "-c", "mkdir -p /www /www2 && hostname > /www/index.html && echo \"second $(hostname)\" > /www2/index.html && httpd -p 9090 -h /www2 && exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        - {name: alt, containerPort: 9090}
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: alt, port: 81, targetPort: alt}
---
apiVersion: v1
kind: Pod
metadata:
  name: echo
  labels: {app: echo}
spec:
  containers:
  - name: echo
    image: busybox:latest
    command: ["nc", "-ll", "-p", "7000", "-e", "cat"]
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector: {app: echo}
  ports:
  - {port: 7000}
EOF
run_capture out k apply -f "$E2E_TMP/web.yaml"
expect_contains "deployment and services created" "service/web created" "$out"
run_capture out k rollout status deploy/web --timeout=90s
expect_contains "3 replicas roll out" "successfully rolled out" "$out"
wait_for 20 has_endpoints web || true
PODS=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
POD1=${PODS%% *}
CIP=$(jp svc web '{.spec.clusterIP}')
expect_eq "endpoints list every ready replica, both ports" "3 8080 9090" \
  "$(jp ep web '{.subsets[0].addresses[*].ip}' | wc -w) $(jp ep web '{.subsets[0].ports[*].port}' | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
wait_for 10 answers_any "http://$CIP/" || true
out=$(answers 30 "http://$CIP/")
expect_eq "ClusterIP: 30 answers spread over all 3 replicas" 3 "$(distinct <<<"$out")"
expect_eq "ClusterIP: every answer names a replica" 0 \
  "$(grep -vcxF -e "$(tr ' ' '\n' <<<"$PODS")" <<<"$out" || true)"
out=$(answers 12 "http://$CIP:81/")
expect_contains "ClusterIP multi-port: the second port reaches the second server" "second web-" "$out"
expect_eq "ClusterIP multi-port: the second port spreads too" yes \
  "$([ "$(distinct <<<"$out")" -ge 2 ] && echo yes || echo no)"

# ---- the API server's proxy: services/proxy, pods/proxy, kubectl proxy -----
API=/api/v1/namespaces/default
run_capture out k get --raw "$API/services/web:80/proxy/"
expect_contains "services/proxy by port number reaches a replica" "web-" "$out"
run_capture out k get --raw "$API/services/http:web:alt/proxy/"
expect_contains "services/proxy by port name reaches that port" "second web-" "$out"
run_capture out k get --raw "$API/services/web:82/proxy/"
expect_eq "services/proxy to a port the Service lacks: kubectl fails" 1 "$RC"
expect_contains "services/proxy to a port the Service lacks: Kubernetes' 503" \
  'Error from server (ServiceUnavailable): no service port 82 found for service "web"' "$out"
run_capture out k get --raw "$API/pods/$POD1/proxy/"
expect_eq "pods/proxy reaches the pod's first container port" "$POD1" "$out"
run_capture out k get --raw "$API/pods/$POD1:9090/proxy/"
expect_eq "pods/proxy reaches another port of the pod" "second $POD1" "$out"
run_capture out k get --raw "$API/pods/$POD1:9091/proxy/"
expect_eq "pods/proxy to a closed port: kubectl fails" 1 "$RC"
expect_contains "pods/proxy to a closed port: Kubernetes' 503 with the dial error" \
  "Error from server (ServiceUnavailable): error trying to reach service: dial tcp $(jp pod "$POD1" '{.status.podIP}'):9091: connect: connection refused" "$out"
# A CGI script shows what the pod received: method, path, query, a header,
# whether credentials leaked, the body.
cat >"$E2E_TMP/cgi.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: cgi, labels: {app: cgi}}
spec:
  containers:
  - name: cgi
    image: busybox:latest
    command:
    - sh
    - -c
    - |
      mkdir -p /w/cgi-bin
      cat > /w/cgi-bin/echo <<'S'
      #!/bin/sh
      echo "Content-Type: text/plain"
      echo
      echo "$REQUEST_METHOD $REQUEST_URI x-test=$HTTP_X_TEST auth=$HTTP_AUTHORIZATION"
      head -c "${CONTENT_LENGTH:-0}"
      S
      chmod +x /w/cgi-bin/echo
      exec httpd -f -p 8080 -h /w
    ports: [{containerPort: 8080}]
EOF
k apply -f "$E2E_TMP/cgi.yaml" >/dev/null
k wait --for=condition=Ready pod/cgi --timeout=60s >/dev/null || true
printf 'from a file' >"$E2E_TMP/body.txt"
run_capture out k create --raw "$API/pods/cgi/proxy/cgi-bin/echo?q=2" -f "$E2E_TMP/body.txt"
expect_eq "pods/proxy passes a POST's path, query and body, and no credentials" \
  "POST /cgi-bin/echo?q=2 x-test= auth=
from a file" "$out"
KP_PORT=$(free_port)
# kubectl itself in the background (not the k function, whose subshell's PID
# would be killed and kubectl left running).
"$KUBECTL" --kubeconfig "$KUBECONFIG" proxy --port "$KP_PORT" >"$E2E_TMP/kubectl-proxy.log" 2>&1 &
KP_PID=$!
wait_for 10 curl -s "http://127.0.0.1:$KP_PORT/version" || true
# (busybox httpd hands a CGI script the body of a POST only.)
run_capture out curl -s --max-time 5 -H 'X-Test: yes' --data-binary 'posted body' \
  "http://127.0.0.1:$KP_PORT$API/pods/cgi/proxy/cgi-bin/echo?a=1&b=%2F"
expect_eq "kubectl proxy: a POST with a header, an encoded query and a body reaches the pod" \
  "POST /cgi-bin/echo?a=1&b=%2F x-test=yes auth=
posted body" "$out"
run_capture out curl -s --max-time 5 -X DELETE "http://127.0.0.1:$KP_PORT$API/pods/cgi/proxy/cgi-bin/echo"
expect_eq "kubectl proxy: a DELETE reaches the pod as one" "DELETE /cgi-bin/echo x-test= auth=" "$out"
run_capture out curl -s --max-time 5 "http://127.0.0.1:$KP_PORT$API/services/web:80/proxy/"
expect_contains "kubectl proxy: a Service through it" "web-" "$out"
kill "$KP_PID" 2>/dev/null || true
wait "$KP_PID" 2>/dev/null || true
KP_PID=""
k delete pod cgi --wait=false >/dev/null

# ---- NodePort: 127.0.0.1, the node's InternalIP, from a pod ----------------
run_capture out k expose deploy web --name web-np --type NodePort --port 80 --target-port 8080
expect_eq "NodePort service created" "service/web-np exposed" "$out"
NP=$(jp svc web-np '{.spec.ports[0].nodePort}')
expect_eq "a nodePort from 30000-32767 is allocated" yes \
  "$([ "${NP:-0}" -ge 30000 ] && [ "$NP" -le 32767 ] && echo yes || echo no)"
wait_for 20 has_endpoints web-np || true
wait_for 10 answers_any "http://127.0.0.1:$NP/" || true
out=$(answers 20 "http://127.0.0.1:$NP/")
expect_eq "NodePort on 127.0.0.1 spreads over the replicas" yes \
  "$([ "$(distinct <<<"$out")" -ge 2 ] && grep -q '^web-' <<<"$out" && echo yes || echo no)"
NODE_IP=$(k get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
# (grep reads all of ip's output: with pipefail an early `grep -q` exit fails ip.)
if [ -n "$NODE_IP" ] && grep -q " inet $NODE_IP/" <<<"$(ip -4 -o addr)"; then
  run_capture out get "http://$NODE_IP:$NP/"
  expect_contains "NodePort on the node's InternalIP $NODE_IP" "web-" "$out"
  # Each answers, the pod itself included (masqueraded back into its own bridge).
  answered=0 self=no
  for _ in $(seq 1 20); do
    run_capture a exec_in "$POD1" timeout 5 wget -q -O - "http://$NODE_IP:$NP/"
    case $a in web-*) answered=$((answered + 1)) ;; esac
    [ "$a" = "$POD1" ] && self=yes
  done
  expect_eq "NodePort on the node's address from a pod: 20 of 20 answer, itself among them" \
    "20 yes" "$answered $self"
else
  echo "# node InternalIP '$NODE_IP' is not a local address: NodePort on it not checked"
fi

# ---- NodePort errors, release and reuse ------------------------------------
np_service() {  # np_service NAME NODEPORT
  cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: $2}]
EOF
}
run_capture out k create -f - <<<"$(np_service np-dup "$NP")"
expect_eq "NodePort collision: kubectl fails" 1 "$RC"
expect_contains "NodePort collision: Kubernetes' text" \
  "The Service \"np-dup\" is invalid: spec.ports[0].nodePort: Invalid value: $NP: provided port is already allocated" "$out"
run_capture out k create -f - <<<"$(np_service np-low 29999)"
expect_contains "NodePort out of range: Kubernetes' text" \
  "spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767" "$out"
run_capture out k get svc np-dup np-low
expect_contains "nothing stored for the refused services" "not found" "$out"
run_capture out k delete svc web-np
expect_eq "delete the NodePort service" 'service "web-np" deleted' "$out"
wait_for 5 refused 127.0.0.1 "$NP" || true
run_capture out refused 127.0.0.1 "$NP"
expect_eq "a deleted NodePort no longer answers ($out)" 0 "$RC"
run_capture out k create -f - <<<"$(np_service np-reuse "$NP")"
expect_eq "the released nodePort is reusable" "service/np-reuse created" "$out"
wait_for 10 answers_any "http://127.0.0.1:$NP/" || true
run_capture out get "http://127.0.0.1:$NP/"
expect_contains "the reused nodePort answers" "web-" "$out"

# ---- session affinity ------------------------------------------------------
# same_in_a_row N URL: N answers, all equal (prints the answer).
same_in_a_row() {
  local out
  out=$(answers "$1" "$2")
  [ "$(grep -c '^web-' <<<"$out")" = "$1" ] && [ "$(distinct <<<"$out")" = 1 ] && head -1 <<<"$out"
}
run_capture out k patch svc web -p '{"spec":{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}}}}'
expect_eq "affinity on (ClusterIP)" "service/web patched" "$out"
sleep 0.5
run_capture STICKY same_in_a_row 15 "http://$CIP/"
expect_eq "ClientIP affinity on a ClusterIP: 15 identical answers in a row ($STICKY)" 0 "$RC"
# Past the 5 s timeout the entry is gone and a new pick is made; with 3
# replicas each round lands elsewhere with probability 2/3 (6 rounds: 0.1 %
# chance of a false failure).
moved=no
for _ in 1 2 3 4 5 6; do
  sleep 5.5
  now=$(get "http://$CIP/")
  if [ "$now" != "$STICKY" ]; then moved=yes; break; fi
done
expect_eq "affinity timeout (5 s): a later connection may land elsewhere" yes "$moved"
run_capture out same_in_a_row 15 "http://$CIP/"
expect_eq "and sticks again to the new pick ($out)" 0 "$RC"
run_capture out k patch svc web -p '{"spec":{"sessionAffinity":"None"}}'
sleep 0.5
out=$(answers 20 "http://$CIP/")
expect_eq "affinity switched off: answers spread at once" yes \
  "$([ "$(distinct <<<"$out")" -ge 2 ] && echo yes || echo no)"
run_capture out k patch svc web -p '{"spec":{"sessionAffinity":"ClientIP"}}'
sleep 0.5
run_capture out same_in_a_row 15 "http://$CIP/"
expect_eq "affinity switched on again: sticks at once" 0 "$RC"
expect_eq "default timeout when none is given: 10800" 10800 \
  "$(jp svc web '{.spec.sessionAffinityConfig.clientIP.timeoutSeconds}')"
run_capture out k patch svc web -p '{"spec":{"sessionAffinity":"None"}}'
run_capture out k patch svc np-reuse -p '{"spec":{"sessionAffinity":"ClientIP"}}'
sleep 0.5
run_capture out same_in_a_row 15 "http://127.0.0.1:$NP/"
expect_eq "ClientIP affinity on a NodePort: 15 identical answers in a row" 0 "$RC"
run_capture out k patch svc np-reuse -p '{"spec":{"sessionAffinity":"None"}}'
sleep 0.5
out=$(answers 20 "http://127.0.0.1:$NP/")
expect_eq "NodePort affinity switched off: answers spread" yes \
  "$([ "$(distinct <<<"$out")" -ge 2 ] && echo yes || echo no)"

# ---- type changes ----------------------------------------------------------
run_capture out k create service clusterip flip --tcp=80:8080
run_capture out k patch svc flip -p '{"spec":{"selector":{"app":"web"}}}'
FIP=$(jp svc flip '{.spec.clusterIP}')
wait_for 10 answers_any "http://$FIP/" || true
run_capture out get "http://$FIP/"
expect_contains "flip as ClusterIP answers" "web-" "$out"
run_capture out k patch svc flip -p '{"spec":{"type":"NodePort"}}'
FNP=$(jp svc flip '{.spec.ports[0].nodePort}')
expect_eq "ClusterIP -> NodePort keeps the clusterIP, allocates a nodePort" "$FIP yes" \
  "$(jp svc flip '{.spec.clusterIP}') $([ "${FNP:-0}" -ge 30000 ] && echo yes || echo no)"
wait_for 10 answers_any "http://127.0.0.1:$FNP/" || true
run_capture out get "http://127.0.0.1:$FNP/"
expect_contains "ClusterIP -> NodePort: the nodePort answers" "web-" "$out"
# An address of the cluster's pool, asked for by name.
LBIP=10.255.$SLOT.$((RANDOM % 200 + 30))
run_capture out k patch svc flip -p "{\"spec\":{\"type\":\"LoadBalancer\",\"loadBalancerIP\":\"$LBIP\"}}"
expect_eq "NodePort -> LoadBalancer: ingress IP at once, nodePort kept" "$LBIP $FNP" \
  "$(jp svc flip '{.status.loadBalancer.ingress[0].ip} {.spec.ports[0].nodePort}')"
expect_eq "the ingress IP is a VIP (ipMode, as Kubernetes defaults it)" VIP \
  "$(jp svc flip '{.status.loadBalancer.ingress[0].ipMode}')"
run_capture out k get svc flip --no-headers
expect_contains "kubectl shows the external IP, never <pending>" " $LBIP " "$out"
wait_for 10 answers_any "http://$LBIP/" || true
run_capture out get "http://$LBIP/"
expect_contains "LoadBalancer ingress IP answers from the host" "web-" "$out"
run_capture out exec_in "$POD1" timeout 5 wget -q -O - "http://$LBIP/"
expect_contains "LoadBalancer ingress IP answers from a pod" "web-" "$out"
run_capture out get "http://127.0.0.1:$FNP/"
expect_contains "LoadBalancer: its nodePort answers" "web-" "$out"
# externalTrafficPolicy: Local gets a health check port, served as kube-proxy does.
hc_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$1/")" = "$2" ]; }
run_capture out k patch svc flip -p '{"spec":{"externalTrafficPolicy":"Local"}}'
HC=$(jp svc flip '{.spec.healthCheckNodePort}')
expect_eq "externalTrafficPolicy Local: a healthCheckNodePort from the node port range" yes \
  "$([ "${HC:-0}" -ge 30000 ] && [ "$HC" -le 32767 ] && [ "$HC" != "$FNP" ] && echo yes || echo no)"
wait_for 10 hc_answers "$HC" 200 || true
run_capture out get -i "http://127.0.0.1:$HC/healthz"
expect_contains "the health check port answers 200" "HTTP/1.1 200 OK" "$out"
expect_contains "the health check names the Service and counts its 3 endpoints" \
  "$(printf '"namespace": "default",\n\t\t"name": "flip"\n\t},\n\t"localEndpoints": 3,')" "$out"
expect_contains "the health check's weight header" "X-Load-Balancing-Endpoint-Weight: 3" "$out"
run_capture out k create -f - <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: lb-none}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: nothing}
  ports: [{port: 80, targetPort: 8080}]
EOF
HC2=$(jp svc lb-none '{.spec.healthCheckNodePort}')
wait_for 10 hc_answers "$HC2" 503 || true
run_capture out get -i "http://127.0.0.1:$HC2/"
expect_contains "a Service without endpoints: its health check answers 503" \
  "HTTP/1.1 503 Service Unavailable" "$out"
expect_contains "a Service without endpoints: 0 local endpoints" '"localEndpoints": 0' "$out"
k delete svc lb-none >/dev/null
# loadBalancerSourceRanges: only those sources reach the ingress IP. The host's
# own connections to it come from the bridge's address ($DNS_IP), pods' from
# their own (externalTrafficPolicy is Local here: no masquerade).
run_capture out k patch svc flip -p "{\"spec\":{\"loadBalancerSourceRanges\":[\"$DNS_IP/32\"]}}"
sleep 0.5
run_capture out get "http://$LBIP/"
expect_contains "loadBalancerSourceRanges: a listed source (the host) is served" "web-" "$out"
run_capture out exec_in "$POD1" timeout 3 wget -q -O - "http://$LBIP/"
expect_eq "loadBalancerSourceRanges: an unlisted source (a pod) gets nothing" no \
  "$(grep -q 'web-' <<<"$out" && echo yes || echo no)"
run_capture out get "http://$FIP/"
expect_contains "loadBalancerSourceRanges: the ClusterIP stays open to all" "web-" "$out"
run_capture out k patch svc flip -p '{"spec":{"loadBalancerSourceRanges":["198.51.100.0/24"]}}'
wait_for 5 bash -c "! curl -s --max-time 1 http://$LBIP/ | grep -q web-" || true
run_capture out get "http://$LBIP/"
expect_eq "loadBalancerSourceRanges changed: the host is no longer served" "" "$out"
run_capture out k patch svc flip -p '{"spec":{"loadBalancerSourceRanges":null}}'
wait_for 10 answers_any "http://$LBIP/" || true
run_capture out exec_in "$POD1" timeout 5 wget -q -O - "http://$LBIP/"
expect_contains "loadBalancerSourceRanges removed: pods are served again" "web-" "$out"
wait_for 10 refused 127.0.0.1 "$HC2" || true
run_capture out refused 127.0.0.1 "$HC2"
expect_eq "a deleted Service's health check port is closed ($out)" 0 "$RC"
run_capture out k patch svc flip -p '{"spec":{"type":"ClusterIP","loadBalancerIP":null}}'
expect_eq "LoadBalancer -> ClusterIP: no nodePort, no ingress" "$FIP||" \
  "$(jp svc flip '{.spec.clusterIP}|{.spec.ports[0].nodePort}|{.status.loadBalancer.ingress}')"
wait_for 5 refused 127.0.0.1 "$FNP" || true
run_capture out refused 127.0.0.1 "$FNP"
expect_eq "LoadBalancer -> ClusterIP: the old nodePort is closed ($out)" 0 "$RC"
run_capture out refused "$LBIP" 80
expect_eq "LoadBalancer -> ClusterIP: the old ingress IP is refused ($out)" 0 "$RC"
wait_for 5 refused 127.0.0.1 "$HC" || true
run_capture out refused 127.0.0.1 "$HC"
expect_eq "LoadBalancer -> ClusterIP: the health check port is closed ($out)" 0 "$RC"
run_capture out get "http://$FIP/"
expect_contains "LoadBalancer -> ClusterIP: the clusterIP still answers" "web-" "$out"

run_capture out k create service externalname ext --external-name web.default.svc.cluster.local
expect_eq "ExternalName service created" "service/ext created" "$out"
expect_eq "ExternalName has no clusterIP" "" "$(jp svc ext '{.spec.clusterIP}')"
run_capture out k patch svc ext -p '{"spec":{"type":"ClusterIP","externalName":null,"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}'
expect_eq "ExternalName -> ClusterIP" "service/ext patched" "$out"
EIP=$(jp svc ext '{.spec.clusterIP}')
wait_for 10 answers_any "http://$EIP/" || true
run_capture out get "http://$EIP/"
expect_contains "ExternalName -> ClusterIP: the new clusterIP answers" "web-" "$out"
run_capture out k patch svc ext -p '{"spec":{"type":"NodePort"}}'
ENP=$(jp svc ext '{.spec.ports[0].nodePort}')
wait_for 10 answers_any "http://127.0.0.1:$ENP/" || true
run_capture out get "http://127.0.0.1:$ENP/"
expect_contains "-> NodePort: its nodePort answers" "web-" "$out"
run_capture out k patch svc ext -p '{"spec":{"type":"ExternalName","externalName":"web.default.svc.cluster.local","selector":null}}'
expect_eq "NodePort -> ExternalName" "service/ext patched" "$out"
expect_eq "NodePort -> ExternalName drops clusterIP and nodePort" "|" \
  "$(jp svc ext '{.spec.clusterIP}|{.spec.ports[0].nodePort}')"
wait_for 5 refused 127.0.0.1 "$ENP" || true
run_capture out refused 127.0.0.1 "$ENP"
expect_eq "-> ExternalName: the nodePort is closed ($out)" 0 "$RC"
run_capture out refused "$EIP" 80
expect_eq "-> ExternalName: the old clusterIP is refused ($out)" 0 "$RC"

# ---- no endpoints: refused at once ------------------------------------------
run_capture out k create service clusterip empty --tcp=80:8080
run_capture out k create service nodeport empty-np --tcp=80:8080
sleep 0.5
run_capture out refused "$(jp svc empty '{.spec.clusterIP}')" 80
expect_eq "no endpoints: a ClusterIP connection is refused at once ($out)" 0 "$RC"
run_capture out refused 127.0.0.1 "$(jp svc empty-np '{.spec.ports[0].nodePort}')"
expect_eq "no endpoints: a NodePort connection is refused at once ($out)" 0 "$RC"
run_capture out exec_in "$POD1" sh -c "timeout 5 wget -q -O - http://$(jp svc empty '{.spec.clusterIP}')/ 2>&1; true"
expect_contains "no endpoints: refused from a pod too" "refused" "$out"

# ---- a selector-less Service to a server outside the cluster ----------------
# Our own netns and veth, a /30 of 10.250/16 no interface here uses yet.
EXT_NS=h2ext-$TAG
EXT_VETH=hx$TAG
for _ in $(seq 1 50); do
  NET=10.250.$((RANDOM % 256)).$((RANDOM % 64 * 4))
  grep -q " inet ${NET%.*}\." <<<"$(ip -4 -o addr)" || break
done
HOST_ADDR=${NET%.*}.$((${NET##*.} + 1))
EXT_ADDR=${NET%.*}.$((${NET##*.} + 2))
ip netns add "$EXT_NS"
ip link add "$EXT_VETH" type veth peer name eth0 netns "$EXT_NS"
ip addr add "$HOST_ADDR/30" dev "$EXT_VETH"
ip link set "$EXT_VETH" up
ip -n "$EXT_NS" addr add "$EXT_ADDR/30" dev eth0
ip -n "$EXT_NS" link set eth0 up
ip -n "$EXT_NS" link set lo up
ip -n "$EXT_NS" route add default via "$HOST_ADDR"
mkdir -p "$E2E_TMP/outside"
echo "outside the cluster" >"$E2E_TMP/outside/index.html"
ip netns exec "$EXT_NS" busybox httpd -f -p 8080 -h "$E2E_TMP/outside" &
EXT_PID=$!
wait_for 5 answers_any "http://$EXT_ADDR:8080/" || true
cat >"$E2E_TMP/outside.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: outside}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: outside}
subsets:
- addresses: [{ip: $EXT_ADDR}]
  ports: [{port: 8080}]
EOF
run_capture out k apply -f "$E2E_TMP/outside.yaml"
expect_contains "selector-less service and hand-written endpoints" "endpoints/outside created" "$out"
sleep 1
expect_eq "the endpoints controller leaves them alone" "$EXT_ADDR:8080" \
  "$(jp ep outside '{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}')"
OIP=$(jp svc outside '{.spec.clusterIP}')
wait_for 10 answers_any "http://$OIP/" || true
run_capture out get "http://$OIP/"
expect_eq "ClusterIP -> server in the test's netns, from the host" "outside the cluster" "$out"
run_capture out exec_in "$POD1" timeout 5 wget -q -O - http://outside/
expect_eq "and from a pod, by name" "outside the cluster" "$out"

# ---- hairpin -----------------------------------------------------------------
self=no
for _ in $(seq 1 30); do
  if [ "$(exec_in "$POD1" timeout 5 wget -q -O - http://web/)" = "$POD1" ]; then self=yes; break; fi
done
expect_eq "hairpin: a pod reaching its own Service can land on itself" yes "$self"

# ---- DNS from a pod ------------------------------------------------------------
# Records are asked of the cluster's DNS server at its endpoint address; one
# lookup goes through the kube-dns Service ($DNS_SVC) as pods do by default.
run_capture out k create -f - <<<'{"apiVersion":"v1","kind":"Service","metadata":{"name":"web-headless"},"spec":{"clusterIP":"None","selector":{"app":"web"},"ports":[{"port":8080}]}}'
run_capture out k create service externalname alias --external-name web.default.svc.cluster.local
sleep 0.5
lookup() { exec_in "$POD1" nslookup "$1" "$DNS_IP"; }
run_capture out lookup web.default.svc.cluster.local
expect_contains "DNS: A record of a ClusterIP Service" "Address: $CIP" "$out"
run_capture out lookup outside.default.svc.cluster.local
expect_contains "DNS: A record of the selector-less Service" "Address: $OIP" "$out"
run_capture out lookup web-headless.default.svc.cluster.local
n=0
for ip in $(jp ep web '{.subsets[0].addresses[*].ip}'); do
  grep -qF "Address: $ip" <<<"$out" && n=$((n + 1))
done
expect_eq "DNS: a headless Service answers every ready pod IP" 3 "$n"
run_capture out lookup alias.default.svc.cluster.local
expect_contains "DNS: CNAME for an ExternalName Service" \
  "alias.default.svc.cluster.local	canonical name = web.default.svc.cluster.local" "$out"
run_capture out lookup nosuch.default.svc.cluster.local
expect_contains "DNS: NXDOMAIN for an unknown name in cluster.local" "NXDOMAIN" "$out"
run_capture out lookup flip.default.svc.cluster.local
expect_contains "DNS: a Service after its type changes resolves to its clusterIP" "Address: $FIP" "$out"
# busybox nslookup of an address asks for its PTR record.
run_capture out lookup "$CIP"
expect_contains "DNS: a ClusterIP's reverse name is its Service" \
  "name = web.default.svc.cluster.local" "$out"
POD1_IP=$(jp pod "$POD1" '{.status.podIP}')
run_capture out lookup "$POD1_IP"
expect_contains "DNS: a headless Service's endpoint's reverse name" \
  "name = ${POD1_IP//./-}.web-headless.default.svc.cluster.local" "$out"
run_capture out lookup "${POD1_IP//./-}.default.pod.cluster.local"
expect_contains "DNS: a pod by its dashed address (CoreDNS' pods insecure)" \
  "Address: $POD1_IP" "$out"
# Other clusters running meanwhile have kube-dns addresses of their own, and
# their netproxy leaves this cluster's bridge alone (test_parallel_clusters).
run_capture out exec_in "$POD1" timeout 5 wget -q -O - http://web/
expect_contains "DNS through the kube-dns Service (resolv.conf's search path)" "web-" "$out"

# ---- netproxy killed (-9) and restarted under an established connection ------
k wait --for=condition=Ready pod/echo --timeout=60s >/dev/null 2>&1 || true
wait_for 10 has_endpoints echo || true
ECHO_IP=$(jp svc echo '{.spec.clusterIP}')
# The client holds one TCP connection to the ClusterIP and sends a line every
# 0.1 s for 6 s; every line must come back on that same connection.
python3 - "$ECHO_IP" >"$E2E_TMP/stream.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7000), timeout=3)
f = s.makefile("rw")
sent = ok = 0
end = time.monotonic() + 6
try:
    while time.monotonic() < end:
        line = f"line {sent}"
        f.write(line + "\n"); f.flush(); sent += 1
        if f.readline().strip() == line:
            ok += 1
        time.sleep(0.1)
except Exception as e:
    print(f"error after {sent} lines: {e!r}")
print(f"{ok}/{sent}")
sys.exit(0 if ok == sent and sent > 20 else 1)
PY
STREAM_PID=$!
sleep 1.5
kill -9 "$NP_PID"
wait "$NP_PID" 2>/dev/null || true
NP_PID=""
run_capture out get "http://$CIP/"
expect_contains "netproxy dead: the rules stay, the ClusterIP answers" "web-" "$out"
run_capture out k create service clusterip late --tcp=80:8080
k patch svc late -p '{"spec":{"selector":{"app":"web"}}}' >/dev/null 2>&1 || true
sleep 1
start_netproxy
set +e
wait "$STREAM_PID"
RC=$?
set -e
expect_eq "netproxy kill -9 + restart: the established connection kept echoing ($(cat "$E2E_TMP/stream.out"))" 0 "$RC"
LIP=$(jp svc late '{.spec.clusterIP}')
wait_for 10 answers_any "http://$LIP/" || true
run_capture out get "http://$LIP/"
expect_contains "the restarted netproxy programs a Service made while it was down" "web-" "$out"
out=$(answers 12 "http://$CIP/")
expect_eq "and the old Services still spread" yes \
  "$([ "$(distinct <<<"$out")" -ge 2 ] && echo yes || echo no)"

stop_cluster
finish
