#!/usr/bin/env bash
# Drives a real `skiff apiserver` with the real kubectl 1.32 (issue 2's "done
# when"): create, apply twice (unchanged), apply a change (configured), get with
# -o wide/yaml/json, describe, get -w, delete, 401 without a token, the typo error,
# NodePort collisions, kubectl auth can-i and whoami, kind: List, serviceaccounts
# and a token from `kubectl create token` that authenticates.
source "$(dirname "$0")/kube_lib.sh"
start_apiserver
M=$E2E_TMP/manifests
mkdir -p "$M"

# --- first start: namespaces and the kubernetes Service exist --------------------
run_capture out k get namespaces
expect_contains "default namespace exists" "default" "$out"
expect_contains "kube-system namespace exists" "kube-system" "$out"
expect_contains "namespaces table has STATUS" "STATUS" "$out"

# --- authentication ---------------------------------------------------------------
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/api/v1/pods")
expect_eq "no token is 401" 401 "$code"
body=$(curl -sk "https://127.0.0.1:$PORT/api/v1/pods")
expect_contains "401 carries a Status body" '"reason":"Unauthorized"' "$body"
run_capture out "$KUBECTL" --kubeconfig "$KUBECONFIG" --token wrong get pods
expect_eq "kubectl with a wrong token fails" 1 "$RC"
expect_contains "kubectl says Unauthorized" "Unauthorized" "$out"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz")
expect_eq "healthz needs no token" 200 "$code"

# --- create, apply, configured, unchanged -------------------------------------------
cat >"$M/web.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
YAML
run_capture out k create -f "$M/web.yaml"
expect_eq "create exits 0" 0 "$RC"
expect_contains "create says created" "service/web created" "$out"
run_capture out k create -f "$M/web.yaml"
expect_contains "second create is AlreadyExists" 'services "web" already exists' "$out"

cat >"$M/np.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: http-go-np
spec:
  type: NodePort
  selector: {app: http-go}
  ports:
  - port: 80
    targetPort: 8080
    nodePort: 30001
YAML
run_capture out k apply -f "$M/np.yaml"
expect_contains "apply creates" "service/http-go-np created" "$out"
run_capture out k apply -f "$M/np.yaml"
expect_contains "apply again is unchanged" "service/http-go-np unchanged" "$out"
sed -i 's/targetPort: 8080/targetPort: 8081/' "$M/np.yaml"
run_capture out k apply -f "$M/np.yaml"
expect_contains "apply a change is configured" "service/http-go-np configured" "$out"
tp=$(k get svc http-go-np -o jsonpath='{.spec.ports[0].targetPort}')
expect_eq "the change is stored" 8081 "$tp"
np=$(k get svc http-go-np -o jsonpath='{.spec.ports[0].nodePort}')
expect_eq "the chosen nodePort is kept" 30001 "$np"

# --- get -o wide / yaml / json ------------------------------------------------------
run_capture out k get svc -o wide
header=$(head -n1 <<<"$out" | tr -s ' ')
expect_eq "svc wide header" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR" "$header"
expect_contains "NodePort row shows port mapping" "80:30001/TCP" "$out"
expect_contains "kubernetes service exists" "kubernetes" "$out"
run_capture out k get svc web -o yaml
expect_contains "yaml has the clusterIP" "clusterIP: 10." "$out"
expect_contains "yaml has defaults" "sessionAffinity: None" "$out"
ip=$(k get svc web -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["clusterIP"])')
case "$ip" in 10.9[6-9].*|10.10[0-9].*|10.11[01].*) pass "clusterIP is in 10.96.0.0/12 ($ip)";; *) fail "clusterIP $ip outside 10.96.0.0/12";; esac

# --- describe ---------------------------------------------------------------------
run_capture out k describe svc web
expect_contains "describe names the service" "Name:" "$out"
expect_contains "describe shows the selector" "app=web" "$out"
expect_contains "describe shows the target port" "8080/TCP" "$out"
# kubectl 1.32 prints a Service's Endpoints line from its EndpointSlices, which
# skiff shows from the Endpoints: here hand-written ones, for a selector-less
# Service. Their addresses (TEST-NET-2) are only stored: no controller or proxy
# runs beside this API server, so nothing is ever sent to them.
cat >"$M/manual.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: outside
spec:
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Endpoints
metadata:
  name: outside
subsets:
- addresses:
  - ip: 198.51.100.10
  - ip: 198.51.100.11
  ports:
  - port: 8080
YAML
check "apply a selector-less Service with its Endpoints" k apply -f "$M/manual.yaml"
run_capture out k describe svc outside
expect_contains "describe shows the Service's endpoints" "198.51.100.10:8080,198.51.100.11:8080" "$out"
run_capture out k get endpointslices -l kubernetes.io/service-name=outside
expect_contains "get endpointslices shows them" "IPv4          8080    198.51.100.10,198.51.100.11" "$out"
"$KUBECTL" --kubeconfig "$KUBECONFIG" get endpointslices -l kubernetes.io/service-name=outside -w >"$E2E_TMP/slices.out" 2>&1 &
watch_pid=$!
for _ in $(seq 1 50); do
  grep -qF 198.51.100.10 "$E2E_TMP/slices.out" && break
  sleep 0.1
done
k patch endpoints outside --type=json \
  -p '[{"op":"add","path":"/subsets/0/addresses/-","value":{"ip":"198.51.100.12"}}]' >/dev/null
for _ in $(seq 1 50); do
  grep -qF 198.51.100.12 "$E2E_TMP/slices.out" && break
  sleep 0.1
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
expect_contains "get endpointslices -w sees the endpoints change" \
  "198.51.100.10,198.51.100.11,198.51.100.12" "$(cat "$E2E_TMP/slices.out")"
run_capture out k delete endpointslices --all
if [ "$RC" -ne 0 ] && grep -qF "delete the endpoints (v1) of the Service instead" <<<"$out"; then
  pass "endpointslices are read-only, and the error says what to change"
else
  fail "delete endpointslices: rc=$RC: $out"
fi

# --- configmaps and secrets: kubectl's typed create (protobuf) and apply ------------
run_capture out k create configmap app-config --from-literal=mode=fast --from-literal=level=3
expect_eq "create configmap" "configmap/app-config created" "$out"
run_capture out k create secret generic app-secret --from-literal=token='s3cr=t'
expect_eq "create secret" "secret/app-secret created" "$out"
expect_eq "the secret's value, base64 both ways" "s3cr=t" \
  "$(k get secret app-secret -o jsonpath='{.data.token}' | base64 -d)"
run_capture out k get cm app-config
expect_contains "get cm: DATA counts the keys" "app-config   2" "$out"
cat >"$M/secret.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: from-string
stringData:
  password: hunter2
YAML
check "apply a Secret with stringData" k apply -f "$M/secret.yaml"
expect_eq "stringData lands in data, type Opaque" "Opaque aHVudGVyMg==" \
  "$(k get secret from-string -o jsonpath='{.type} {.data.password}')"
cat >"$M/badkey.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad-key
data:
  "a b": "1"
YAML
run_capture out k apply -f "$M/badkey.yaml"
expect_eq "a bad key is refused" 1 "$RC"
expect_contains "... naming the key and the rule" \
  'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters' "$out"

# --- serviceaccounts and their tokens ------------------------------------------------
run_capture out k create serviceaccount builder
expect_eq "create serviceaccount" "serviceaccount/builder created" "$out"
run_capture out k get sa
header=$(head -n1 <<<"$out" | tr -s ' ')
expect_eq "get sa header" "NAME SECRETS AGE" "$header"
expect_contains "the default ServiceAccount is there" "default   0" "$out"
expect_contains "... and builder" "builder   0" "$out"
run_capture out k create serviceaccount Bad_Name
expect_eq "a bad ServiceAccount name is refused" 1 "$RC"
expect_contains "... naming the field" "metadata.name: Invalid value" "$out"
run_capture TOKEN k create token builder
expect_eq "create token exits 0" 0 "$RC"
expect_eq "the token is a JWT" 3 "$(tr '.' '\n' <<<"$TOKEN" | wc -l)"
payload=$(cut -d. -f2 <<<"$TOKEN" | tr '_-' '/+')
while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
expect_contains "its subject is the ServiceAccount" \
  '"sub":"system:serviceaccount:default:builder"' "$(base64 -d <<<"$payload")"
run_capture out "$KUBECTL" --kubeconfig "$KUBECONFIG" --token "$TOKEN" get pods -A
expect_eq "the token authenticates kubectl" 0 "$RC"
run_capture out "$KUBECTL" --kubeconfig "$KUBECONFIG" --token "$TOKEN" auth whoami
expect_contains "whoami names the ServiceAccount" "system:serviceaccount:default:builder" "$out"
sig=${TOKEN##*.}
case "${sig:0:1}" in A) flip=B ;; *) flip=A ;; esac
TAMPERED="${TOKEN%.*}.$flip${sig:1}"
run_capture out "$KUBECTL" --kubeconfig "$KUBECONFIG" --token "$TAMPERED" get pods
expect_eq "a tampered token fails" 1 "$RC"
expect_contains "... as Unauthorized" "error: You must be logged in to the server (Unauthorized)" "$out"
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods")
expect_eq "curl with the token is 200" 200 "$code"
run_capture out k create token builder --duration=1m
expect_eq "a token shorter than 10 minutes is refused" 1 "$RC"
expect_contains "... naming the field" \
  "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes" "$out"
run_capture out k create token ghost
expect_contains "no token for a missing ServiceAccount" 'serviceaccounts "ghost" not found' "$out"
check "delete sa builder" k delete sa builder
run_capture out "$KUBECTL" --kubeconfig "$KUBECONFIG" --token "$TOKEN" get pods
expect_contains "a deleted ServiceAccount's token stops working" "Unauthorized" "$out"
check "create namespace sa-team" k create namespace sa-team
for _ in $(seq 50); do k get sa default -n sa-team >/dev/null 2>&1 && break; sleep 0.1; done
run_capture out k create token default -n sa-team
expect_eq "a new namespace's default ServiceAccount issues tokens" 0 "$RC"
k delete namespace sa-team --wait=false >/dev/null

# --- the typo: port instead of ports ------------------------------------------------
cat >"$M/typo.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: typo
spec:
  selector: {app: web}
  port:
  - port: 80
YAML
run_capture out k apply -f "$M/typo.yaml"
expect_eq "typo apply fails" 1 "$RC"
expect_contains "typo names spec.port" 'unknown field "spec.port"' "$out"
expect_contains "typo suggests spec.ports" "spec.ports" "$out"
run_capture out k get svc typo
expect_contains "nothing stored for the typo" 'services "typo" not found' "$out"

# --- NodePort collision and range ---------------------------------------------------
sed 's/name: http-go-np/name: np-clash/' "$M/np.yaml" >"$M/clash.yaml"
run_capture out k apply -f "$M/clash.yaml"
expect_eq "nodePort clash fails" 1 "$RC"
expect_contains "clash says already allocated" "provided port is already allocated" "$out"
sed 's/nodePort: 30001/nodePort: 80/' "$M/clash.yaml" >"$M/range.yaml"
run_capture out k apply -f "$M/range.yaml"
expect_contains "out of range nodePort" "provided port is not in the valid range. The range of valid ports is 30000-32767" "$out"

# --- get -w sees changes -------------------------------------------------------------
cat >"$M/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: watched
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ["sleep", "3600"]
YAML
"$KUBECTL" --kubeconfig "$KUBECONFIG" get pods -w >"$E2E_TMP/watch.out" 2>&1 &
watch_pid=$!
sleep 1
k create -f "$M/pod.yaml" >/dev/null
k label pod watched color=blue >/dev/null
k delete pod watched --wait=false >/dev/null
for _ in $(seq 1 50); do
  [ "$(grep -c watched "$E2E_TMP/watch.out")" -ge 2 ] && break
  sleep 0.1
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
out=$(cat "$E2E_TMP/watch.out")
expect_contains "get -w prints a header" "NAME" "$out"
expect_contains "get -w sees the pod" "watched" "$out"
run_capture out k get pod watched
expect_contains "unbound pod deleted at once" 'pods "watched" not found' "$out"

# --- paginated get: kubectl asks for pages of --chunk-size, with continue tokens -------
for i in 1 2 3 4 5; do
  sed "s/name: watched/name: page-$i/" "$M/pod.yaml" >"$M/page-$i.yaml"
  k create -f "$M/page-$i.yaml" >/dev/null
done
run_capture out k get pods --chunk-size=2 -o name
expect_eq "chunked get lists every pod once, in order" \
  "pod/page-1 pod/page-2 pod/page-3 pod/page-4 pod/page-5" "$(echo $out)"
k delete pods page-1 page-2 page-3 page-4 page-5 --wait=false >/dev/null

# --- kubectl auth: the one admin user may do everything ---------------------------------
run_capture out k auth can-i delete services -n kube-system
expect_eq "auth can-i answers yes" "yes" "$out"
run_capture out k auth can-i '*' '*' --all-namespaces
expect_eq "auth can-i answers yes for everything" "yes" "$out"
run_capture out k auth whoami
expect_contains "auth whoami names the admin user" "Username    admin" "$out"
expect_contains "auth whoami lists its groups" "[system:masters system:authenticated]" "$out"
run_capture out k auth can-i --list
expect_contains "auth can-i --list shows every verb on every resource" "*.*" "$out"
run_capture out k auth can-i create pods --as=bob
expect_eq "auth can-i --as another user fails closed" 1 "$RC"
expect_contains "impersonation is refused, naming the user" 'users "bob" is forbidden' "$out"
run_capture out k get selfsubjectaccessreviews
expect_eq "reviews cannot be listed" 1 "$RC"
expect_contains "reviews cannot be listed: 405" "MethodNotAllowed" "$out"
cat >"$M/ssar.yaml" <<'YAML'
apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes:
    verb: delete
    resource: services
    namespace: default
YAML
run_capture out k create -f "$M/ssar.yaml" -o jsonpath='{.status.allowed}'
expect_eq "a review manifest passes kubectl's validation and is answered" "true" "$out"

# skiff's own create takes a manifest without a name, printing the server's name as kubectl does.
run_capture out "$SKIFF" create -f "$M/ssar.yaml" --kubeconfig "$KUBECONFIG"
expect_eq "skiff create of a review" "selfsubjectaccessreview.authorization.k8s.io/<unknown> created" "$out"
cat >"$M/generated.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  generateName: gen-
spec:
  ports:
  - port: 80
YAML
run_capture out "$SKIFF" create -f "$M/generated.yaml" --kubeconfig "$KUBECONFIG"
expect_contains "skiff create with generateName names the created object" "service/gen-" "$out"
generated=$(echo "$out" | sed -n 's|^service/\(gen-[a-z0-9]*\) created$|\1|p')
run_capture out k get svc "$generated" -o name
expect_eq "the generated name is the stored one" "service/$generated" "$out"
k delete svc "$generated" >/dev/null

# --- kind: List (validated by kubectl against OpenAPI v2 in protobuf) ------------------
cat >"$M/list.yaml" <<'YAML'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: listed
  spec:
    ports:
    - port: 80
YAML
run_capture out k apply -f "$M/list.yaml"
expect_contains "a List applies its items" "service/listed created" "$out"
run_capture out k apply -f "$M/list.yaml"
expect_contains "a List applied twice is unchanged" "service/listed unchanged" "$out"
sed 's/- port: 80/- prot: 80/' "$M/list.yaml" >"$M/list-typo.yaml"
run_capture out k apply -f "$M/list-typo.yaml"
expect_eq "a List with a typo fails" 1 "$RC"
expect_contains "kubectl names the List item's unknown field" 'unknown field "prot"' "$out"
k delete svc listed >/dev/null

# --- delete --------------------------------------------------------------------------
run_capture out k delete svc web
expect_contains "delete says deleted" 'service "web" deleted' "$out"
run_capture out k get svc web
expect_eq "get after delete fails" 1 "$RC"
# The nodePort is released and reusable.
k delete svc http-go-np >/dev/null
run_capture out k apply -f "$M/clash.yaml"
expect_contains "released nodePort is reusable" "service/np-clash created" "$out"

finish
