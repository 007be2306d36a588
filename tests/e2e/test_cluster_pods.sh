#!/usr/bin/env bash
# A whole cluster from `skiff up --ephemeral`: a node that turns Ready, the
# busybox image loaded with `skiff image load`, a Pod from examples/ running
# in its own network namespace and answering HTTP on its pod IP, kubectl logs
# and exec, a NodePort on 127.0.0.1 and a ClusterIP reaching it, cluster DNS
# from inside the pod, a pod that completes, a command that cannot run, and
# after `skiff down` no netns, bridge or nft table of the cluster left.
# Traffic goes only to 127.0.0.1 and to the cluster's own bridge and pods.
source "$(dirname "$0")/kube_lib.sh"
require_root

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
start_cluster
s() { "$SKIFF" "$@" 2>&1; }
# An ephemeral cluster's kernel names derive from its directory (ctl/cmd_up.cpp).
TAG=$(cluster_tag "$DATA")
BRIDGE=sk-$TAG
TABLE=skiff_$TAG
check "the cluster's bridge exists" ip link show "$BRIDGE"

run_capture out k get nodes --no-headers
expect_contains "the node is Ready" " Ready " "$out"

run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox.tar"
expect_eq "image load" "Loaded image: busybox:latest" "$out"

run_capture out s apply -f "$ROOT/examples/pod.yaml"
expect_eq "pod created" "pod/http-go created" "$out"
run_capture out k wait --for=condition=Ready pod/http-go --timeout=60s
expect_eq "pod becomes Ready" "pod/http-go condition met" "$out"
IP=$(k get pod http-go -o jsonpath='{.status.podIP}' || true)
expect_contains "pod has an address from the node's range" "10.244." "$IP"
run_capture out curl -s --max-time 5 "http://$IP:8080/"
expect_eq "pod answers on its IP" "hello from http-go" "$out"

run_capture out k exec http-go -- hostname
expect_eq "kubectl exec: hostname is the pod name" "http-go" "$out"
run_capture out k exec http-go -- sh -c 'exit 3'
expect_eq "kubectl exec: exit code passes through" 3 "$RC"
expect_contains "kubectl exec: says the exit code" "command terminated with exit code 3" "$out"
run_capture out k logs http-go
expect_eq "kubectl logs exits 0" 0 "$RC"
run_capture out s logs http-go
expect_eq "skiff logs exits 0" 0 "$RC"

# Services: NodePort on 127.0.0.1, ClusterIP from the host, DNS from the pod.
run_capture out s apply -f "$ROOT/examples/service-nodeport.yaml"
expect_eq "nodeport service created" "service/http-go-np created" "$out"
wait_for 20 sh -c "k() { $KUBECTL --kubeconfig $KUBECONFIG \"\$@\"; }; k get ep http-go-np -o jsonpath='{.subsets[0].addresses[0].ip}' | grep -q ."
run_capture out k get ep http-go-np -o jsonpath='{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}'
expect_eq "endpoints hold the pod" "$IP:8080" "$out"
wait_for 10 curl -sf --max-time 2 http://127.0.0.1:30001/ || true
run_capture out curl -s --max-time 5 http://127.0.0.1:30001/
expect_eq "NodePort 30001 on 127.0.0.1 answers" "hello from http-go" "$out"
CIP=$(k get svc http-go-np -o jsonpath='{.spec.clusterIP}' || true)
run_capture out curl -s --max-time 5 "http://$CIP/"
expect_eq "ClusterIP answers from the host" "hello from http-go" "$out"
run_capture out k exec http-go -- nslookup http-go-np.default.svc.cluster.local
expect_contains "DNS from the pod resolves the service" "$CIP" "$out"
run_capture out k exec http-go -- wget -q -O - http://http-go-np/
expect_eq "hairpin: the pod reaches its own service by its short name, and itself" \
  "hello from http-go" "$out"

# ConfigMap and Secret values reach a container's environment.
k create configmap app-config --from-literal=MODE=fast >/dev/null
k create secret generic app-secret --from-literal=TOKEN='s3cr=t' >/dev/null
cat >"$E2E_TMP/env-pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: env-pod
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "echo mode=$MODE token=$TOKEN"]
    envFrom:
    - configMapRef: {name: app-config}
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: app-secret, key: TOKEN}}
YAML
run_capture out k apply -f "$E2E_TMP/env-pod.yaml"
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod env-pod -o jsonpath='{.status.phase}' | grep -q Succeeded"
expect_eq "a ConfigMap and a Secret in the environment" "mode=fast token=s3cr=t" "$(k logs env-pod)"

# A pod that completes; a command that cannot run.
run_capture out k run once --image=busybox:latest --restart=Never -- sh -c 'echo done; exit 0'
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod once -o jsonpath='{.status.phase}' | grep -q Succeeded"
expect_eq "a finished pod is Succeeded" "Succeeded" "$(k get pod once -o jsonpath='{.status.phase}')"
expect_eq "its logs" "done" "$(k logs once)"
run_capture out k run nocmd --image=busybox:latest --restart=Never --command -- /no/such/thing
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod nocmd -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}' | grep -q ."
expect_eq "a missing command: ContainerCannotRun" "ContainerCannotRun 128" \
  "$(k get pod nocmd -o jsonpath='{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}')"
run_capture out k run noimage --image=nosuch:1 --restart=Never
wait_for 30 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod noimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q ErrImageNeverPull"
expect_eq "an image not loaded: ErrImageNeverPull" "ErrImageNeverPull" \
  "$(k get pod noimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')"
# kubectl describe shows the reason in State and the fix in the pod's events.
wait_for 30 sh -c "$KUBECTL --kubeconfig $KUBECONFIG describe pod noimage | grep -q 'skiff image load'"
run_capture out k describe pod noimage
expect_contains "describe: the Warning event says how to load the image" \
  "Warning  ErrImageNeverPull" "$out"
expect_contains "describe: ... and names the fix" '`skiff image load FILE`' "$out"
expect_contains "describe: the scheduler's event" "Successfully assigned default/noimage to" "$out"
run_capture out k get events --field-selector involvedObject.name=http-go
for reason in Scheduled Pulled Created Started; do
  expect_contains "a running pod's events: $reason" "$reason" "$out"
done

# Deletion removes the pod's network namespace.
UID_=$(k get pod http-go -o jsonpath='{.metadata.uid}' || true)
run_capture out k delete pod http-go --timeout=60s
expect_eq "delete pod" 'pod "http-go" deleted' "$out"
if ls /run/netns 2>/dev/null | grep -q "$UID_"; then fail "netns of the deleted pod remains"; else
  pass "netns of the deleted pod is gone"; fi

stop_cluster
if ls /run/netns 2>/dev/null | grep -q "skiff-$TAG-"; then
  fail "netns of the cluster remain after skiff down"; else pass "no netns left after skiff down"; fi
if ip link show "$BRIDGE" >/dev/null 2>&1; then fail "bridge $BRIDGE remains"; else
  pass "no bridge left"; fi
if nft list table ip "$TABLE" >/dev/null 2>&1; then fail "table $TABLE remains"; else
  pass "no nft table left"; fi
finish
