#!/usr/bin/env bash
# A whole cluster from `skiff up --ephemeral`: a node that turns Ready, the
# busybox image loaded with `skiff image load`, a Pod from examples/ running
# in its own network namespace and answering HTTP on its pod IP, kubectl logs
# and exec, a NodePort on 127.0.0.1 and a ClusterIP reaching it, cluster DNS
# from inside the pod, ConfigMaps and Secrets in env and volumes (and an edit
# reaching a running pod), kubectl inside a pod reaching the API server with
# its service account's token, a pod that completes, a command that cannot run, and
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

# ConfigMap, Secret and downward API files in volumes: read-only, a key by
# subPath, a Secret's mode, and an edited ConfigMap reaching the running pod.
k create configmap web-conf --from-literal=app.conf='port=80' --from-literal=level=info >/dev/null
cat >"$E2E_TMP/vol-pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: vol-pod
  labels: {app: vol}
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: conf, mountPath: /etc/web}
    - {name: conf, mountPath: /etc/level, subPath: level}
    - {name: creds, mountPath: /var/run/creds}
    - {name: info, mountPath: /etc/podinfo}
  volumes:
  - name: conf
    configMap: {name: web-conf}
  - name: creds
    secret: {secretName: app-secret, defaultMode: 0400, items: [{key: TOKEN, path: token}]}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
YAML
run_capture out k apply -f "$E2E_TMP/vol-pod.yaml"
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod vol-pod -o jsonpath='{.status.phase}' | grep -q Running"
expect_eq "a configMap volume: a key as a file" "port=80" "$(k exec vol-pod -- cat /etc/web/app.conf)"
expect_eq "a configMap key mounted by subPath" "info" "$(k exec vol-pod -- cat /etc/level)"
expect_eq "a secret volume: the decoded value" "s3cr=t" "$(k exec vol-pod -- cat /var/run/creds/token)"
expect_eq "... with its defaultMode 0400" "400" "$(k exec vol-pod -- stat -L -c %a /var/run/creds/token)"
expect_eq "a downwardAPI volume: the pod's labels" 'app="vol"' "$(k exec vol-pod -- cat /etc/podinfo/labels)"
if k exec vol-pod -- sh -c 'echo x > /etc/web/new' >/dev/null 2>&1; then
  fail "a configMap volume is writable"; else pass "a configMap volume is read-only"; fi
k create configmap web-conf --from-literal=app.conf='port=8080' --from-literal=level=info \
  --dry-run=client -o yaml | k apply -f - >/dev/null 2>&1
wait_for 40 sh -c "$KUBECTL --kubeconfig $KUBECONFIG exec vol-pod -- cat /etc/web/app.conf | grep -q 8080"
expect_eq "an edited ConfigMap reaches the running pod's volume" "port=8080" \
  "$(k exec vol-pod -- cat /etc/web/app.conf)"
# A missing ConfigMap holds the pod in ContainerCreating with a FailedMount
# event, until it is created.
run_capture out k run late --image=busybox:latest --restart=Never \
  --overrides='{"spec":{"volumes":[{"name":"c","configMap":{"name":"late-conf"}}],"containers":[{"name":"late","image":"busybox:latest","command":["cat","/c/msg"],"volumeMounts":[{"name":"c","mountPath":"/c"}]}]}}'
wait_for 30 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod late -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q ContainerCreating"
expect_eq "a missing ConfigMap: the container waits in ContainerCreating" "ContainerCreating" \
  "$(k get pod late -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')"
wait_for 20 sh -c "$KUBECTL --kubeconfig $KUBECONFIG describe pod late | grep -q FailedMount"
run_capture out k describe pod late
expect_contains "describe: the FailedMount event names the volume and the ConfigMap" \
  'MountVolume.SetUp failed for volume "c" : configmap "late-conf" not found' "$out"
k create configmap late-conf --from-literal=msg=arrived >/dev/null
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod late -o jsonpath='{.status.phase}' | grep -q Succeeded"
expect_eq "... and starts once it exists" "arrived" "$(k logs late)"
run_capture out k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bad-vol}
spec:
  containers: [{name: c, image: busybox:latest, volumeMounts: [{name: v, mountPath: /v}]}]
  volumes: [{name: v, configMap: {name: x, items: [{key: k, path: ../escape}]}}]
YAML
expect_contains "a volume path with '..' is refused, naming the field" \
  "spec.volumes[0].configMap.items[0].path: Invalid value: \"../escape\": must not contain '..'" "$out"
expect_eq "... and kubectl exits 1" "1" "$RC"

# In-cluster API access, as client-go's InClusterConfig makes it: the
# kubernetes Service's Endpoints point at the API server on the pods' gateway,
# and a pod gets its service account's token, ca.crt and namespace. The real
# kubectl (a static binary) runs inside a pod, with no kubeconfig.
expect_eq "the kubernetes Service's Endpoints: the API server on the pods' gateway" \
  "$(ip -4 -o addr show "$BRIDGE" | awk '{print $4}' | cut -d/ -f1)" \
  "$(k get ep kubernetes -o jsonpath='{.subsets[0].addresses[0].ip}')"
KUBECTL_BIN=$(readlink -f "$KUBECTL")
cat >"$E2E_TMP/incluster.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: incluster
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; /kubectl --cache-dir /tmp/kc get svc kubernetes -o name && /kubectl --cache-dir /tmp/kc get pod incluster -o jsonpath='{.metadata.name}'"]
    volumeMounts: [{name: kubectl, mountPath: /kubectl}]
  volumes: [{name: kubectl, hostPath: {path: $KUBECTL_BIN, type: File}}]
YAML
run_capture out k apply -f "$E2E_TMP/incluster.yaml"
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod incluster -o jsonpath='{.status.phase}' | grep -q 'Succeeded\|Failed'"
expect_eq "kubectl inside a pod reaches the API server with its service account" \
  $'default\nservice/kubernetes\nincluster' "$(k logs incluster)"
# Projected serviceAccountToken sources: one for the API server (it
# authenticates, through kubernetes.default.svc by cluster DNS), one for
# another audience (the API server refuses it).
cat >"$E2E_TMP/projected.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: projected
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:latest
    command:
    - sh
    - -c
    - |
      kc() { /kubectl --cache-dir /tmp/kc --server https://kubernetes.default.svc --certificate-authority /var/run/secrets/kubernetes.io/serviceaccount/ca.crt "\$@"; }
      kc --token "\$(cat /p/api-token)" get pod projected -o name
      if kc --token "\$(cat /p/vault-token)" get pod projected >/dev/null 2>&1; then echo accepted; else echo refused; fi
    volumeMounts: [{name: kubectl, mountPath: /kubectl}, {name: p, mountPath: /p}]
  volumes:
  - {name: kubectl, hostPath: {path: $KUBECTL_BIN, type: File}}
  - name: p
    projected:
      sources:
      - serviceAccountToken: {path: api-token, expirationSeconds: 600}
      - serviceAccountToken: {path: vault-token, audience: vault}
YAML
run_capture out k apply -f "$E2E_TMP/projected.yaml"
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod projected -o jsonpath='{.status.phase}' | grep -q 'Succeeded\|Failed'"
expect_eq "projected tokens: the API server's audience authenticates, another's is refused" \
  $'pod/projected\nrefused' "$(k logs projected)"
run_capture out k run no-token --image=busybox:latest --restart=Never \
  --overrides='{"spec":{"automountServiceAccountToken":false}}' -- ls /var/run/secrets/kubernetes.io/serviceaccount
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod no-token -o jsonpath='{.status.phase}' | grep -q 'Succeeded\|Failed'"
expect_eq "automountServiceAccountToken: false mounts no token" "Failed" \
  "$(k get pod no-token -o jsonpath='{.status.phase}')"
k create serviceaccount quiet >/dev/null
k patch serviceaccount quiet -p '{"automountServiceAccountToken":false}' >/dev/null
run_capture out k run quiet-sa --image=busybox:latest --restart=Never \
  --overrides='{"spec":{"serviceAccountName":"quiet"}}' -- ls /var/run/secrets/kubernetes.io/serviceaccount
wait_for 60 sh -c "$KUBECTL --kubeconfig $KUBECONFIG get pod quiet-sa -o jsonpath='{.status.phase}' | grep -q 'Succeeded\|Failed'"
expect_eq "... and so does its ServiceAccount's false" "Failed" \
  "$(k get pod quiet-sa -o jsonpath='{.status.phase}')"

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
