#!/usr/bin/env bash
# Deployments and ReplicaSets end to end: real kubectl against `skiff apiserver`
# + `skiff controller-manager` (no kubelet: the test makes pods Ready itself
# with `kubectl patch --subresource=status`, as a kubelet would).
source "$(dirname "$0")/kube_lib.sh"

# poll_until SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
poll_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start_apiserver
"$SKIFF" controller-manager --kubeconfig "$KUBECONFIG" >>"$E2E_TMP/cm.log" 2>&1 &
CM_PID=$!
READY_PID=""
# At exit, whatever happened: the ready loop, the controller-manager, then
# kube_lib's cleanup (apiserver, temp dir). Never stops half way under set -e.
stop_extra() {
  set +e
  [ -n "$READY_PID" ] && kill "$READY_PID" 2>/dev/null
  [ -n "$READY_PID" ] && wait "$READY_PID" 2>/dev/null
  kill "$CM_PID" 2>/dev/null
  wait "$CM_PID" 2>/dev/null
  cleanup
}
trap stop_extra EXIT

# The fake kubelet: every pod not yet Running becomes Running and Ready.
make_ready_loop() {
  while true; do
    for p in $(k get pods -o jsonpath='{range .items[?(@.status.phase!="Running")]}{.metadata.name}{"\n"}{end}' 2>/dev/null); do
      k patch pod "$p" --subresource=status --type=merge \
        -p '{"status":{"phase":"Running","podIP":"10.244.0.9","conditions":[{"type":"Ready","status":"True"}]}}' \
        >/dev/null 2>&1 || true
    done
    sleep 0.2
  done
}
make_ready_loop &
READY_PID=$!

cat >"$E2E_TMP/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1
YAML

check "apply deployment" k apply -f "$E2E_TMP/web.yaml"
run_capture out k rollout status deployment/web --timeout=60s
expect_eq "rollout status exits 0" 0 "$RC"
expect_contains "rollout status success text" 'deployment "web" successfully rolled out' "$out"
expect_eq "3 pods" 3 "$(k get pods -l app=web -o name | wc -l)"
expect_contains "table columns" "READY   UP-TO-DATE   AVAILABLE" "$(k get deployments)"
expect_contains "ready 3/3" "3/3" "$(k get deployment web)"
# kubectl describe shows what the controllers did, as events.
rs=$(k get rs -l app=web -o jsonpath='{.items[0].metadata.name}')
wait_for 10 sh -c "$KUBECTL --kubeconfig $KUBECONFIG describe deployment web | grep -q ScalingReplicaSet"
expect_contains "describe deployment: the ScalingReplicaSet event" \
  "Scaled up replica set $rs from 0 to 3" "$(k describe deployment web)"
wait_for 10 sh -c "$KUBECTL --kubeconfig $KUBECONFIG describe rs $rs | grep -q SuccessfulCreate"
expect_contains "describe replicaset: the SuccessfulCreate events" "Created pod: $rs-" \
  "$(k describe rs "$rs")"

# A deleted pod is replaced.
victim=$(k get pods -o jsonpath='{.items[0].metadata.name}')
check "delete a pod" k delete pod "$victim" --wait=false
poll_until 20 bash -c "[ \$($KUBECTL --kubeconfig $KUBECONFIG get pods -o name | grep -vc $victim) -eq 3 ]" &&
  pass "deleted pod replaced" || fail "deleted pod replaced"

# kubectl scale (the scale subresource).
run_capture out k scale deployment/web --replicas=5
expect_eq "kubectl scale output" "deployment.apps/web scaled" "$out"
poll_until 30 bash -c "[ \$($KUBECTL --kubeconfig $KUBECONFIG get pods -o name | wc -l) -eq 5 ]" &&
  pass "scaled to 5" || fail "scaled to 5"
run_capture out "$SKIFF" scale deployment/web --replicas=3
expect_eq "skiff scale output" "deployment.apps/web scaled" "$out"
poll_until 30 bash -c "[ \$($KUBECTL --kubeconfig $KUBECONFIG get pods -o name | wc -l) -eq 3 ]" &&
  pass "scaled to 3" || fail "scaled to 3"

# A new image rolls out; kubectl rollout status follows it.
run_capture out "$SKIFF" set image deployment/web web=nginx:2
expect_eq "set image output" "deployment.apps/web image updated" "$out"
run_capture out k rollout status deployment/web --timeout=60s
expect_eq "rollout status after set image" 0 "$RC"
expect_contains "rollout status waited" "Waiting for deployment \"web\" rollout to finish" "$out"
expect_eq "all pods on nginx:2" "nginx:2 nginx:2 nginx:2" \
  "$(k get pods -o jsonpath='{.items[*].spec.containers[0].image}')"
expect_eq "revision 2" 2 "$(k get deployment web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"
run_capture out k rollout history deployment/web
expect_contains "history lists revision 2" "2         <none>" "$out"

# kubectl rollout undo (client-side) brings the first ReplicaSet back.
rs1=$(k get rs -o json | /usr/bin/python3 -c 'import json,sys; print([r["metadata"]["name"] for r in json.load(sys.stdin)["items"] if r["spec"]["template"]["spec"]["containers"][0]["image"]=="nginx:1"][0])')
run_capture out k rollout undo deployment/web
expect_eq "undo output" "deployment.apps/web rolled back" "$out"
run_capture out timeout 60 "$SKIFF" rollout status deployment/web
expect_eq "skiff rollout status exits 0" 0 "$RC"
expect_contains "skiff rollout status text" 'deployment "web" successfully rolled out' "$out"
expect_eq "old ReplicaSet reused" 3 "$(k get rs "$rs1" -o jsonpath='{.spec.replicas}')"
expect_eq "two ReplicaSets" 2 "$(k get rs -o name | wc -l)"
expect_eq "revision 3" 3 "$(k get rs "$rs1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"

# skiff rollout undo --to-revision and restart.
run_capture out "$SKIFF" rollout undo deployment/web --to-revision=2
expect_eq "skiff undo output" "deployment.apps/web rolled back" "$out"
check "rollout to revision 2 completes" k rollout status deployment/web --timeout=60s
run_capture out "$SKIFF" rollout undo deployment/web --to-revision=9
expect_contains "undo to a missing revision" "unable to find specified revision 9 in history" "$out"
run_capture out "$SKIFF" rollout restart deployment/web
expect_eq "restart output" "deployment.apps/web restarted" "$out"
check "restart completes" k rollout status deployment/web --timeout=60s
expect_eq "three ReplicaSets after restart" 3 "$(k get rs -o name | wc -l)"

# kill -9 of the controller-manager mid-rollout: a new one finishes the rollout.
kill "$READY_PID"; wait "$READY_PID" 2>/dev/null || true
check "set image (rollout that stalls)" "$SKIFF" set image deployment/web web=nginx:3
poll_until 20 bash -c "$KUBECTL --kubeconfig $KUBECONFIG get pods -o jsonpath='{.items[*].spec.containers[0].image}' | grep -q nginx:3" &&
  pass "rollout started" || fail "rollout started"
kill -9 "$CM_PID"; wait "$CM_PID" 2>/dev/null || true
"$SKIFF" controller-manager --kubeconfig "$KUBECONFIG" >>"$E2E_TMP/cm.log" 2>&1 &
CM_PID=$!
make_ready_loop &
READY_PID=$!
check "rollout resumes after kill -9" k rollout status deployment/web --timeout=60s
expect_eq "all pods on nginx:3" "nginx:3 nginx:3 nginx:3" \
  "$(k get pods -o jsonpath='{.items[*].spec.containers[0].image}')"

# Bad input: 422 with the field path.
run_capture out k patch deployment web --type=merge -p '{"spec":{"replicas":-1}}'
expect_contains "negative replicas refused" "spec.replicas" "$out"

# delete --cascade=orphan leaves the ReplicaSets and pods.
check "delete --cascade=orphan" k delete deployment web --cascade=orphan
poll_until 20 bash -c "! $KUBECTL --kubeconfig $KUBECONFIG get deployment web" &&
  pass "deployment gone" || fail "deployment gone"
expect_eq "ReplicaSets kept" 4 "$(k get rs -o name | wc -l)"
expect_eq "pods kept" 3 "$(k get pods -o name | wc -l)"
expect_eq "ReplicaSets orphaned" "" "$(k get rs -o jsonpath='{.items[*].metadata.ownerReferences[*].name}')"

# Background cascade of a ReplicaSet removes its pods.
for rs in $(k get rs -o name); do k delete "$rs" --wait=false >/dev/null; done
poll_until 30 bash -c "[ -z \"\$($KUBECTL --kubeconfig $KUBECONFIG get pods -o name)\" ]" &&
  pass "pods collected with their ReplicaSets" || fail "pods collected with their ReplicaSets"

# skiff delete --cascade=foreground: when it returns, the dependents are gone too.
check "apply deployment again" k apply -f "$E2E_TMP/web.yaml"
check "rolled out again" k rollout status deployment/web --timeout=60s
run_capture out "$SKIFF" delete deployment web --cascade=nope
expect_contains "bad --cascade refused" 'invalid cascade value (nope)' "$out"
check "skiff delete --cascade=foreground" "$SKIFF" delete deployment web --cascade=foreground
expect_eq "no ReplicaSets left" "" "$(k get rs -o name)"
expect_eq "no pods left" "" "$(k get pods -o name)"

finish
