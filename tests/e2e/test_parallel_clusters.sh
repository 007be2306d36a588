#!/usr/bin/env bash
# Two `skiff up --ephemeral` clusters at the same time must not see each other.
# Each holds a slot of its own (ctl/cluster_slot.h), so their pod /24s,
# ClusterIP ranges, kube-dns addresses and LoadBalancer pools differ, and each
# netproxy leaves the other's bridge alone. With the newer cluster B running,
# a pod of the OLDER cluster A resolves A's Service by name through A's DNS
# (before slots, B's table took 10.96.0.10:53 first: NXDOMAIN); each cluster's
# ClusterIP, NodePort and LoadBalancer IP answer with its own pod; a pod of one
# cannot reach the other's ClusterIP; and after `skiff down` of both nothing of
# either is left (netns, bridge, table, runc root, slot lock, data directory).
# Traffic goes only to 127.0.0.1 and to the clusters' own bridges, pods and
# service addresses.
source "$(dirname "$0")/kube_lib.sh"
require_root

DATA_A=""
DATA_B=""
parallel_cleanup() {
  for d in "$DATA_A" "$DATA_B"; do
    if [ -n "$d" ]; then "$SKIFF" down --data-dir "$d" >/dev/null 2>&1 || true; fi
  done
  cleanup
}
trap parallel_cleanup EXIT

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null

# up VAR: a detached ephemeral cluster; VAR gets its data directory.
up() {
  local out
  if ! out=$("$SKIFF" up --ephemeral --detach --listen 127.0.0.1:0 --no-fsync 2>&1); then
    echo "skiff up failed: $out" >&2
    exit 1
  fi
  printf -v "$1" '%s' "$(dirname "${out##*kubeconfig: }")"
}
up DATA_A
up DATA_B
KC_A=$DATA_A/kubeconfig
KC_B=$DATA_B/kubeconfig
ka() { "$KUBECTL" --kubeconfig "$KC_A" "$@"; }
kb() { "$KUBECTL" --kubeconfig "$KC_B" "$@"; }
TAG_A=$(cluster_tag "$DATA_A")
TAG_B=$(cluster_tag "$DATA_B")

# ---- distinct ranges ------------------------------------------------------------
POD_CIDR_A=$(ka get node -o jsonpath='{.items[0].spec.podCIDR}')
POD_CIDR_B=$(kb get node -o jsonpath='{.items[0].spec.podCIDR}')
SLOT_A=$(cut -d. -f3 <<<"$POD_CIDR_A")
SLOT_B=$(cut -d. -f3 <<<"$POD_CIDR_B")
expect_eq "A's pod range is its slot's /24" "10.244.$SLOT_A.0/24" "$POD_CIDR_A"
expect_eq "B's pod range is its slot's /24" "10.244.$SLOT_B.0/24" "$POD_CIDR_B"
if [ "$SLOT_A" != "$SLOT_B" ]; then pass "pod ranges differ ($POD_CIDR_A, $POD_CIDR_B)"; else
  fail "both clusters have pod range $POD_CIDR_A"; fi
PID_A=$(cat "$DATA_A/skiff.pid")
PID_B=$(cat "$DATA_B/skiff.pid")
expect_eq "A holds slot $SLOT_A's lock file" "$PID_A" "$(cat "/run/skiff/slots/$SLOT_A.lock" 2>&1)"
expect_eq "B holds slot $SLOT_B's lock file" "$PID_B" "$(cat "/run/skiff/slots/$SLOT_B.lock" 2>&1)"
# The slot's /20 of 10.96.0.0/12: 10.(96 + N/16).((N%16)*16).0, kube-dns at its .10.
svc_prefix() { echo "10.$((96 + $1 / 16)).$(($1 % 16 * 16))"; }
# in_slot_range SLOT IP: IP lies in the slot's /20.
in_slot_range() {
  local o2 o3
  IFS=. read -r _ o2 o3 _ <<<"$2"
  [ "$o2" = $((96 + $1 / 16)) ] && [ "$o3" -ge $(($1 % 16 * 16)) ] && [ "$o3" -le $(($1 % 16 * 16 + 15)) ]
}
DNS_A=$(ka -n kube-system get svc kube-dns -o jsonpath='{.spec.clusterIP}')
DNS_B=$(kb -n kube-system get svc kube-dns -o jsonpath='{.spec.clusterIP}')
expect_eq "A's kube-dns is its range's .10" "$(svc_prefix "$SLOT_A").10" "$DNS_A"
expect_eq "B's kube-dns is its range's .10" "$(svc_prefix "$SLOT_B").10" "$DNS_B"
expect_eq "A's kubernetes Service is its range's .1" "$(svc_prefix "$SLOT_A").1" \
  "$(ka get svc kubernetes -o jsonpath='{.spec.clusterIP}')"
expect_eq "B's kubernetes Service is its range's .1" "$(svc_prefix "$SLOT_B").1" \
  "$(kb get svc kubernetes -o jsonpath='{.spec.clusterIP}')"

# ---- a web pod, a Service and a client pod in each --------------------------------
NP_A=$((31000 + RANDOM % 1700))
NP_B=$((NP_A + 1))
deploy() {
  local kc=$1 name=$2 np=$3
  "$KUBECTL" --kubeconfig "$kc" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo $name > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080, nodePort: $np}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: client
    image: busybox:latest
    command: ["sleep", "3600"]
EOF
}
for c in A B; do
  d=DATA_$c
  run_capture out "$SKIFF" image load --data-dir "${!d}" "$E2E_TMP/busybox.tar"
  expect_eq "image load into $c" "Loaded image: busybox:latest" "$out"
done
deploy "$KC_A" cluster-A "$NP_A"
deploy "$KC_B" cluster-B "$NP_B"
for c in a b; do
  run_capture out k$c wait --for=condition=Ready pod/web pod/client --timeout=60s
  expect_contains "cluster ${c^^}: pods Ready" "pod/client condition met" "$out"
done
CIP_A=$(ka get svc web -o jsonpath='{.spec.clusterIP}')
CIP_B=$(kb get svc web -o jsonpath='{.spec.clusterIP}')
LB_A=$(ka get svc web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
LB_B=$(kb get svc web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
check "A's ClusterIP $CIP_A is in A's /20" in_slot_range "$SLOT_A" "$CIP_A"
check "B's ClusterIP $CIP_B is in B's /20" in_slot_range "$SLOT_B" "$CIP_B"
if [ "$CIP_A" != "$CIP_B" ]; then pass "ClusterIPs differ"; else fail "same ClusterIP $CIP_A"; fi
expect_eq "A's LoadBalancer IP is the first of its slot's pool" "10.255.$SLOT_A.1" "$LB_A"
expect_eq "B's LoadBalancer IP is the first of its slot's pool" "10.255.$SLOT_B.1" "$LB_B"
if [ "$LB_A" != "$LB_B" ]; then pass "LoadBalancer ingress IPs differ"; else
  fail "same LoadBalancer IP $LB_A"; fi
IP_A=$(ka get pod web -o jsonpath='{.status.podIP}')
IP_B=$(kb get pod web -o jsonpath='{.status.podIP}')
expect_contains "A's pod IP is in A's pod range" "10.244.$SLOT_A." "$IP_A"
expect_contains "B's pod IP is in B's pod range" "10.244.$SLOT_B." "$IP_B"

# ---- DNS: the older cluster's pods ask their own cluster --------------------------
run_capture out ka exec client -- cat /etc/resolv.conf
expect_contains "A's pods' nameserver is A's kube-dns" "nameserver $DNS_A" "$out"
run_capture out kb exec client -- cat /etc/resolv.conf
expect_contains "B's pods' nameserver is B's kube-dns" "nameserver $DNS_B" "$out"
run_capture out ka exec client -- nslookup web.default.svc.cluster.local
expect_contains "older cluster A: its Service resolves through kube-dns (B running)" \
  "Address: $CIP_A" "$out"
run_capture out ka exec client -- timeout 5 wget -q -O - http://web/
expect_eq "older cluster A: wget by the Service's short name reaches A's pod" cluster-A "$out"
run_capture out kb exec client -- nslookup web.default.svc.cluster.local
expect_contains "newer cluster B: its Service resolves" "Address: $CIP_B" "$out"
run_capture out kb exec client -- timeout 5 wget -q -O - http://web/
expect_eq "newer cluster B: wget by name reaches B's pod" cluster-B "$out"

# ---- ClusterIP, NodePort and LoadBalancer IP answer with their own pod ------------
get() { curl -s --max-time 5 "$@"; }
wait_for 10 sh -c "curl -sf --max-time 2 http://$CIP_A/ && curl -sf --max-time 2 http://$CIP_B/" || true
expect_eq "A's ClusterIP from the host" cluster-A "$(get "http://$CIP_A/")"
expect_eq "B's ClusterIP from the host" cluster-B "$(get "http://$CIP_B/")"
expect_eq "A's NodePort $NP_A on 127.0.0.1" cluster-A "$(get "http://127.0.0.1:$NP_A/")"
expect_eq "B's NodePort $NP_B on 127.0.0.1" cluster-B "$(get "http://127.0.0.1:$NP_B/")"
expect_eq "A's LoadBalancer IP from the host" cluster-A "$(get "http://$LB_A/")"
expect_eq "B's LoadBalancer IP from the host" cluster-B "$(get "http://$LB_B/")"
run_capture out ka exec client -- timeout 5 wget -q -O - "http://$LB_A/"
expect_eq "A's LoadBalancer IP from A's pod" cluster-A "$out"
run_capture out kb exec client -- timeout 5 wget -q -O - "http://$CIP_B/"
expect_eq "B's ClusterIP from B's pod" cluster-B "$out"

# ---- neither cluster's pods reach the other's Services ----------------------------
run_capture out ka exec client -- sh -c "timeout 5 wget -q -O - http://$CIP_B/ 2>&1; echo rc=\$?"
if grep -q cluster-B <<<"$out" || grep -qx "rc=0" <<<"$out"; then
  fail "A's pod reached B's ClusterIP: $out"; else pass "A's pod does not reach B's ClusterIP"; fi
run_capture out kb exec client -- sh -c "timeout 5 wget -q -O - http://$LB_A/ 2>&1; echo rc=\$?"
if grep -q cluster-A <<<"$out" || grep -qx "rc=0" <<<"$out"; then
  fail "B's pod reached A's LoadBalancer IP: $out"; else
  pass "B's pod does not reach A's LoadBalancer IP"; fi

# ---- both torn down, nothing left -------------------------------------------------
for c in A B; do
  d=DATA_$c
  t=TAG_$c
  s=SLOT_$c
  dir=${!d}
  run_capture out "$SKIFF" down --data-dir "$dir"
  expect_contains "skiff down $c" "skiff stopped" "$out"
  printf -v "$d" '%s' ""
  if ls /run/netns 2>/dev/null | grep -q "skiff-${!t}-"; then fail "$c: netns left"; else
    pass "$c: no netns left"; fi
  if ip link show "sk-${!t}" >/dev/null 2>&1; then fail "$c: bridge left"; else
    pass "$c: no bridge left"; fi
  if nft list table ip "skiff_${!t}" >/dev/null 2>&1; then fail "$c: table left"; else
    pass "$c: no nft table left"; fi
  if [ -e "/run/skiff/${!t}" ]; then fail "$c: runc root left"; else pass "$c: no runc root left"; fi
  if [ -e "$dir" ]; then fail "$c: data directory left"; else pass "$c: no data directory left"; fi
  # Another cluster on the machine may already hold the slot again.
  p=PID_$c
  if [ "$(cat "/run/skiff/slots/${!s}.lock" 2>/dev/null)" = "${!p}" ]; then
    fail "$c: slot lock left"; else pass "$c: slot ${!s} released"; fi
done
finish
