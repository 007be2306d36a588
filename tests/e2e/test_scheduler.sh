#!/usr/bin/env bash
# `skiff scheduler` end to end: real kubectl against `skiff apiserver` + the
# scheduler alone (no kubelet: the test registers a Node and sets its status).
source "$(dirname "$0")/kube_lib.sh"

start_apiserver
"$SKIFF" scheduler --kubeconfig "$KUBECONFIG" >>"$E2E_TMP/scheduler.log" 2>&1 &
SCHED_PID=$!
stop_extra() {
  kill "$SCHED_PID" 2>/dev/null && wait "$SCHED_PID" 2>/dev/null
  cleanup
}
trap stop_extra EXIT

k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata: {name: node1, labels: {disk: ssd}}
EOF
k patch node node1 --subresource=status --type=merge -p \
  '{"status":{"allocatable":{"cpu":"2","memory":"2Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null

k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: fits}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: busybox, resources: {requests: {cpu: 500m, memory: 256Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers: [{name: c, image: busybox, resources: {requests: {cpu: "4", memory: 8Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: wrong-disk}
spec:
  nodeSelector: {disk: hdd}
  containers: [{name: c, image: busybox}]
EOF

node_of() { k get pod "$1" -o jsonpath='{.spec.nodeName}'; }
bound_to() { [ "$(node_of "$1")" = "$2" ]; }
reason_of() { k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}'; }
unschedulable() { [ "$(reason_of "$1")" = Unschedulable ]; }

check "a pod that fits is bound" wait_for 20 bound_to fits node1
check "a pod too big is marked Unschedulable" wait_for 20 unschedulable too-big
expect_eq "the message is Kubernetes'" \
  "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory." \
  "$(k get pod too-big -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')"
check "a pod whose nodeSelector matches nothing is Unschedulable" wait_for 20 unschedulable wrong-disk
expect_contains "its message names the selector" \
  "1 node(s) didn't match Pod's node affinity/selector." "$(k describe pod wrong-disk)"
# Events are written apart from the status: give the event a moment.
check "kubectl describe shows the FailedScheduling event" wait_for 10 sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG describe pod too-big | grep -q FailedScheduling"

# Relabelling the node lets the waiting pod in: it is retried when nodes change.
k label node node1 disk=hdd --overwrite >/dev/null
check "a node change retries the pod" wait_for 20 bound_to wrong-disk node1
expect_eq "the pod already bound stays" "node1" "$(node_of fits)"

# A cordoned node takes no new pods.
k patch node node1 --type=merge -p '{"spec":{"unschedulable":true}}' >/dev/null
k run cordoned --image=busybox --restart=Never >/dev/null
check "a cordoned node is refused" wait_for 20 unschedulable cordoned
expect_contains "with Kubernetes' message" "1 node(s) were unschedulable." \
  "$(k get pod cordoned -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')"
k patch node node1 --type=merge -p '{"spec":{"unschedulable":false}}' >/dev/null
check "uncordoning lets it in" wait_for 20 bound_to cordoned node1

# SIGTERM stops it.
kill -TERM "$SCHED_PID"
check "skiff scheduler exits on SIGTERM" wait "$SCHED_PID"
run_capture out "$SKIFF" scheduler --log-level loud
expect_eq "a bad --log-level fails" 1 "$RC"
expect_contains "and says why" 'invalid --log-level "loud"' "$out"
finish
