#!/usr/bin/env bash
# skiff apply/get/describe/delete of examples/ against a real `skiff apiserver`:
# `skiff get` prints what `kubectl get` prints (AGE aside), and kubectl and
# skiff take turns applying the same files (each says "unchanged" after the other).
source "$(dirname "$0")/kube_lib.sh"
EX=$ROOT/examples
start_apiserver
s() { "$SKIFF" "$@"; }

run_capture out s apply -f "$EX"
expect_eq "skiff apply examples exits 0" 0 "$RC"
expect_contains "pod created" "pod/http-go created" "$out"
expect_contains "nodeport service created" "service/http-go-np created" "$out"
expect_contains "endpoints created" "endpoints/legacy-db created" "$out"
expect_contains "externalname created" "service/search created" "$out"
expect_eq "one line per document" 9 "$(grep -c ' created$' <<<"$out")"

run_capture out s apply -f "$EX"
expect_eq "second skiff apply: all unchanged" 9 "$(grep -c ' unchanged$' <<<"$out")"

run_capture out k apply -f "$EX"
expect_eq "kubectl apply after skiff apply exits 0" 0 "$RC"
expect_eq "kubectl apply after skiff apply: all unchanged" 9 "$(grep -c ' unchanged$' <<<"$out")"

# kubectl changes an object; skiff sees the change and reverts it.
sed 's/port: 80$/port: 81/' "$EX/service-nodeport.yaml" >"$E2E_TMP/np81.yaml"
run_capture out k apply -f "$E2E_TMP/np81.yaml"
expect_eq "kubectl reconfigures" "service/http-go-np configured" "$out"
run_capture out s apply -f "$EX/service-nodeport.yaml"
expect_eq "skiff applies back" "service/http-go-np configured" "$out"
run_capture out k apply -f "$EX/service-nodeport.yaml"
expect_eq "kubectl then says unchanged" "service/http-go-np unchanged" "$out"
expect_eq "port is back to 80" "80 8080 30001" \
  "$(s get svc http-go-np -o jsonpath='{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.ports[0].nodePort}')"

# skiff get == kubectl get, AGE column aside.
# AGE is cut by its header's position; without headers, the last field goes.
noage() { awk '{ if ($1 == "NAME" || $1 == "NAMESPACE") col = index($0, "AGE"); if (col > 0) print substr($0, 1, col - 1) substr($0, col + 6); else { sub(/ +[0-9]+[smhdy]$/, ""); print } }' | sed 's/ *$//'; }
for args in "svc" "svc -o wide" "po" "po -o wide" "ep" "ns" "svc,po" "all" "all,ns" "svc -A" "svc --show-labels" "svc http-go-np search" "po,svc -A --no-headers" "svc -o name" "svc http-go-np -o yaml"; do
  # shellcheck disable=SC2086
  a=$(s get $args 2>&1 | noage)
  # shellcheck disable=SC2086
  b=$(k get $args 2>&1 | noage)
  if [ "$a" = "$b" ]; then pass "get $args matches kubectl"; else
    fail "get $args differs from kubectl"; diff <(echo "$b") <(echo "$a") | sed 's/^/    /' >&2; fi
done
run_capture out s get svc http-go-np -o yaml
expect_contains "yaml has nodePort" "nodePort: 30001" "$out"
run_capture out s get pods -l app=nobody
expect_eq "empty list message" "No resources found in default namespace." "$out"
expect_eq "empty list exits 0" 0 "$RC"

# describe: kubectl's Service layout.
run_capture out s describe svc http-go-np
expect_eq "describe exits 0" 0 "$RC"
for field in "Name:                     http-go-np" "Selector:                 app=http-go" \
  "Type:                     NodePort" "Port:                     <unset>  80/TCP" \
  "TargetPort:               8080/TCP" "NodePort:                 <unset>  30001/TCP" \
  "Session Affinity:         None" "External Traffic Policy:  Cluster" "Events:                   <none>"; do
  expect_contains "describe shows [$field]" "$field" "$out"
done
a=$(s describe svc http-go-np | grep -v '^IP\|^IPs'); b=$(k describe svc http-go-np | grep -v '^IP\|^IPs')
expect_eq "describe svc matches kubectl" "$b" "$a"
run_capture out s describe svc legacy-db
expect_contains "manual endpoints shown" "10.244.0.50:5432" "$out"
run_capture out s describe svc http-go-sticky
expect_contains "session affinity shown" "ClientIP" "$out"
run_capture out s describe pod http-go
expect_contains "pod describe" "busybox:latest" "$out"
expect_eq "describe pod matches kubectl" "$(k describe pod http-go)" "$(s describe pod http-go)"
expect_eq "describe ns matches kubectl" "$(k describe ns default)" "$(s describe ns default)"
expect_eq "describe ExternalName svc matches kubectl" "$(k describe svc search)" "$(s describe svc search)"
k patch svc http-go-lb -p '{"spec":{"externalTrafficPolicy":"Local","loadBalancerSourceRanges":["10.0.0.0/8","192.168.0.0/16"]}}' >/dev/null
run_capture out s describe svc http-go-lb
for field in "LoadBalancer Ingress:        10." "(VIP)" "HealthCheck NodePort:        3" \
  "LoadBalancer Source Ranges:  10.0.0.0/8,192.168.0.0/16"; do
  expect_contains "describe LoadBalancer shows [$field]" "$field" "$out"
done
expect_eq "describe LoadBalancer svc matches kubectl" "$(k describe svc http-go-lb)" "$out"
# Lists: every namespace's objects (-A), categories (all), the empty answer.
k run elsewhere -n kube-system --image=busybox:latest >/dev/null
names() { grep -E '^(Name|Namespace):' | tr -s ' '; }
run_capture out s describe pods -A
expect_eq "describe pods -A exits 0" 0 "$RC"
expect_eq "describe pods -A describes what kubectl does" "$(k describe pods -A | names)" "$(names <<<"$out")"
expect_eq "describe all describes what kubectl does" "$(k describe all | names)" "$(s describe all | names)"
run_capture out s describe pods -A -l app=nobody
expect_eq "describe -A of nothing" "No resources found" "$out"
k delete pod elsewhere -n kube-system --grace-period 0 >/dev/null

# get -w: the list, then one row per change, columns as the list's.
"$SKIFF" get svc -w >"$E2E_TMP/watch.out" 2>&1 &
WATCH_PID=$!
sleep 0.5
s apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: watched
spec:
  ports:
  - port: 9
YAML
for _ in $(seq 1 40); do grep -q '^watched ' "$E2E_TMP/watch.out" && break; sleep 0.05; done
kill "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true
expect_contains "watch shows the header" "NAME             TYPE" "$(cat "$E2E_TMP/watch.out")"
expect_contains "watch shows the new service" "watched" "$(cat "$E2E_TMP/watch.out")"

# delete by file, by name, by label; wait.
run_capture out s delete -f "$EX/service-externalname.yaml"
expect_eq "delete -f" 'service "search" deleted' "$out"
run_capture out s wait --for=delete svc/search --timeout 5s
expect_eq "wait --for=delete exits 0" 0 "$RC"
run_capture out s wait --for=jsonpath='{.spec.type}'=LoadBalancer svc/http-go-lb --timeout 5s
expect_eq "wait jsonpath" "service/http-go-lb condition met" "$out"
run_capture out s delete svc http-go-lb http-go-sticky
expect_eq "delete two" $'service "http-go-lb" deleted\nservice "http-go-sticky" deleted' "$out"
run_capture out s delete pod -l app=http-go --grace-period 0
expect_eq "delete by label" 'pod "http-go" deleted' "$out"
run_capture out s delete -f "$EX/pod-configmap-volume.yaml" --grace-period 0
expect_eq "delete -f: both objects of a file" $'configmap "web-content" deleted\npod "web-files" deleted' "$out"
run_capture out s get pods
expect_eq "pods gone" "No resources found in default namespace." "$out"

# Global flags before the verb, as kubectl takes them.
run_capture out "$SKIFF" --kubeconfig "$KUBECONFIG" -n kube-system get ns kube-system --no-headers
expect_contains "flags before the verb" "kube-system" "$out"
run_capture out "$SKIFF" --kubeconfig="$KUBECONFIG" get pods
expect_eq "--flag=value before the verb" "No resources found in default namespace." "$out"
finish
