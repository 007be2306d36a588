#!/usr/bin/env bash
# kubectl's typed create commands against a real `skiff apiserver`: kubectl 1.32
# sends these bodies as Kubernetes protobuf (application/vnd.kubernetes.protobuf)
# and never falls back to JSON. Each object is read back with `kubectl get -o
# json` and checked field by field; a bad one gets a 422 naming the field and is
# not stored; a field skiff cannot read gets a 415 naming it; the JSON path
# (`kubectl create -f`) still works.
source "$(dirname "$0")/kube_lib.sh"
start_apiserver
M=$E2E_TMP/manifests
mkdir -p "$M"

# jfield FILE PATH: the JSON value at a dotted PATH (a.b[0].c; keys with dots in
# brackets: labels["app"]) of the object in FILE, printed as JSON ("null" if absent).
jfield() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, re, sys
v = json.load(open(sys.argv[1]))
for quoted, index, plain in re.findall(r'\["([^"]+)"\]|\[(\d+)\]|([^.\[\]]+)', sys.argv[2]):
    try:
        v = v[int(index)] if index else v[quoted or plain]
    except (KeyError, IndexError, TypeError):
        v = None
        break
print(json.dumps(v, sort_keys=True))
PY
}

# get_json NAME ARGS...: kubectl get ARGS -o json into $E2E_TMP/NAME.json.
# A failed get records a failure and leaves "null", so later checks fail too.
get_json() {
  local name=$1; shift
  if ! k get "$@" -o json >"$E2E_TMP/$name.json" 2>"$E2E_TMP/$name.err"; then
    fail "get $*: $(cat "$E2E_TMP/$name.err")"
    echo null >"$E2E_TMP/$name.json"
  fi
}

# expect_field NAME FILE PATH EXPECTED_JSON
expect_field() {
  expect_eq "$1" "$4" "$(jfield "$E2E_TMP/$2.json" "$3")"
}

# --- the request really is protobuf, and the answer JSON --------------------------
run_capture out k create namespace foo -v=8
expect_eq "create namespace exits 0" 0 "$RC"
expect_contains "create namespace says created" "namespace/foo created" "$out"
expect_contains "kubectl sent protobuf" "Content-Type: application/vnd.kubernetes.protobuf" "$out"
expect_contains "kubectl accepts JSON back" \
  "Accept: application/vnd.kubernetes.protobuf,application/json" "$out"
expect_contains "the server answered 201" "Response Status: 201 Created" "$out"
get_json ns namespace foo
expect_field "namespace name" ns metadata.name '"foo"'
expect_field "namespace label" ns 'metadata.labels["kubernetes.io/metadata.name"]' '"foo"'
expect_field "namespace finalizers" ns spec.finalizers '["kubernetes"]'
expect_field "namespace phase" ns status.phase '"Active"'

# --- deployment -----------------------------------------------------------------------
run_capture out k create deployment d1 --image=busybox --replicas=2 --port=8080
expect_eq "create deployment exits 0" 0 "$RC"
expect_contains "create deployment says created" "deployment.apps/d1 created" "$out"
get_json d1 deployment d1
expect_field "deployment name" d1 metadata.name '"d1"'
expect_field "deployment namespace" d1 metadata.namespace '"default"'
expect_field "deployment label" d1 metadata.labels '{"app": "d1"}'
expect_field "deployment replicas" d1 spec.replicas 2
expect_field "deployment selector" d1 spec.selector '{"matchLabels": {"app": "d1"}}'
expect_field "template labels" d1 spec.template.metadata.labels '{"app": "d1"}'
expect_field "template has no zero creationTimestamp" d1 spec.template.metadata.creationTimestamp null
expect_field "container name" d1 'spec.template.spec.containers[0].name' '"busybox"'
expect_field "container image" d1 'spec.template.spec.containers[0].image' '"busybox"'
expect_field "container port" d1 'spec.template.spec.containers[0].ports' \
  '[{"containerPort": 8080, "protocol": "TCP"}]'
expect_field "container resources" d1 'spec.template.spec.containers[0].resources' '{}'
expect_field "no empty nodeName from proto2 zero values" d1 spec.template.spec.nodeName null
expect_field "strategy defaulted" d1 spec.strategy.type '"RollingUpdate"'
expect_field "restartPolicy defaulted" d1 spec.template.spec.restartPolicy '"Always"'

# replicas is a pointer: an explicit 0 survives (it is not "unset", which means 1).
run_capture out k create deployment d0 --image=busybox --replicas=0
expect_eq "create deployment --replicas=0 exits 0" 0 "$RC"
get_json d0 deployment d0
expect_field "replicas 0 kept" d0 spec.replicas 0

run_capture out k create deployment d2 -n foo --image=nginx:1.25
expect_eq "create deployment in a namespace exits 0" 0 "$RC"
get_json d2 -n foo deployment d2
expect_field "deployment in foo" d2 metadata.namespace '"foo"'
expect_field "nginx image" d2 'spec.template.spec.containers[0].image' '"nginx:1.25"'
expect_field "container named after the image" d2 'spec.template.spec.containers[0].name' '"nginx"'

# --- services -------------------------------------------------------------------------
run_capture out k create service clusterip s1 --tcp=80:8080
expect_eq "create service clusterip exits 0" 0 "$RC"
expect_contains "create clusterip says created" "service/s1 created" "$out"
get_json s1 service s1
expect_field "s1 type" s1 spec.type '"ClusterIP"'
expect_field "s1 label" s1 metadata.labels '{"app": "s1"}'
expect_field "s1 selector" s1 spec.selector '{"app": "s1"}'
expect_field "s1 port name" s1 'spec.ports[0].name' '"80-8080"'
expect_field "s1 port" s1 'spec.ports[0].port' 80
expect_field "s1 targetPort" s1 'spec.ports[0].targetPort' 8080
expect_field "s1 protocol" s1 'spec.ports[0].protocol' '"TCP"'
expect_field "s1 no nodePort" s1 'spec.ports[0].nodePort' null
ip=$(jfield "$E2E_TMP/s1.json" spec.clusterIP)
expect_contains "s1 got a ClusterIP" '"10.' "$ip"

run_capture out k create service nodeport s2 --tcp=80:8080 --node-port=30080
expect_eq "create service nodeport exits 0" 0 "$RC"
get_json s2 service s2
expect_field "s2 type" s2 spec.type '"NodePort"'
expect_field "s2 selector" s2 spec.selector '{"app": "s2"}'
expect_field "s2 ports" s2 spec.ports \
  '[{"name": "80-8080", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": 8080}]'
expect_field "s2 externalTrafficPolicy defaulted" s2 spec.externalTrafficPolicy '"Cluster"'

run_capture out k create service externalname s3 --external-name example.com
expect_eq "create service externalname exits 0" 0 "$RC"
get_json s3 service s3
expect_field "s3 type" s3 spec.type '"ExternalName"'
expect_field "s3 externalName" s3 spec.externalName '"example.com"'
expect_field "s3 has no clusterIP" s3 spec.clusterIP null
expect_field "s3 label" s3 metadata.labels '{"app": "s3"}'

run_capture out k create service loadbalancer s4 --tcp=80:8080
expect_eq "create service loadbalancer exits 0" 0 "$RC"
get_json s4 service s4
expect_field "s4 type" s4 spec.type '"LoadBalancer"'
expect_field "s4 port" s4 'spec.ports[0].port' 80
expect_field "s4 targetPort" s4 'spec.ports[0].targetPort' 8080
np=$(jfield "$E2E_TMP/s4.json" 'spec.ports[0].nodePort')
if [[ "$np" =~ ^[0-9]+$ ]] && [ "$np" -ge 30000 ] && [ "$np" -le 32767 ]; then pass "s4 nodePort allocated ($np)"; else
  fail "s4 nodePort allocated: got [$np]"; fi

run_capture out k create service clusterip s6 --clusterip=None --tcp=5432
expect_eq "create headless service exits 0" 0 "$RC"
get_json s6 service s6
expect_field "s6 headless" s6 spec.clusterIP '"None"'
expect_field "s6 port and targetPort" s6 'spec.ports[0]' \
  '{"name": "5432", "port": 5432, "protocol": "TCP", "targetPort": 5432}'

# --- a bad one: 422 with the field path, nothing stored -------------------------------
run_capture out k create service nodeport s5 --tcp=80:8080 --node-port=99999 -v=6
expect_eq "bad nodePort exits 1" 1 "$RC"
expect_contains "bad nodePort is a 422" "422 Unprocessable Entity" "$out"
expect_contains "bad nodePort names the field" "spec.ports[0].nodePort: Invalid value: 99999" "$out"
run_capture out k get service s5
expect_contains "bad service was not stored" 'services "s5" not found' "$out"

# --- a duplicate: 409 as with JSON -----------------------------------------------------
run_capture out k create namespace foo
expect_eq "duplicate namespace exits 1" 1 "$RC"
expect_contains "duplicate namespace is AlreadyExists" 'namespaces "foo" already exists' "$out"

# --- server-side dry run takes the protobuf path too -----------------------------------
run_capture out k create deployment dry --image=busybox --dry-run=server
expect_eq "dry-run create exits 0" 0 "$RC"
run_capture out k get deployment dry
expect_contains "dry-run stored nothing" 'deployments.apps "dry" not found' "$out"

# --- a field skiff cannot read: 415 naming it ------------------------------------------
# A Namespace whose metadata carries field 99 (not in ObjectMeta), built by hand.
/usr/bin/python3 - "$E2E_TMP/bad.pb" <<'PY'
import sys
def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80]); n >>= 7
    return out + bytes([n])
def field(num, payload):  # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload
meta = field(1, b"odd") + field(99, b"x")
raw = field(1, meta)
unknown = field(1, field(1, b"v1") + field(2, b"Namespace")) + field(2, raw)
open(sys.argv[1], "wb").write(b"k8s\x00" + unknown)
PY
token=$(grep -m1 'token:' "$KUBECONFIG" | awk '{print $2}' | tr -d '"')
code=$(curl -sk -o "$E2E_TMP/bad.out" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/vnd.kubernetes.protobuf' \
  --data-binary @"$E2E_TMP/bad.pb" "https://127.0.0.1:$PORT/api/v1/namespaces")
expect_eq "unreadable protobuf field is 415" 415 "$code"
expect_contains "415 names the field" \
  "protobuf field 99 of io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta at metadata" \
  "$(cat "$E2E_TMP/bad.out")"
expect_contains "415 is a Status" '"reason":"UnsupportedMediaType"' "$(cat "$E2E_TMP/bad.out")"
run_capture out k get namespace odd
expect_contains "unreadable namespace was not stored" 'namespaces "odd" not found' "$out"

# --- the JSON path is unchanged: create -f with YAML -----------------------------------
cat >"$M/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: from-yaml
  labels: {app: from-yaml}
spec:
  selector: {app: from-yaml}
  ports:
  - name: http
    port: 8081
    targetPort: http
YAML
run_capture out k create -f "$M/svc.yaml" -v=8
expect_eq "create -f exits 0" 0 "$RC"
expect_contains "create -f says created" "service/from-yaml created" "$out"
expect_contains "create -f sent JSON" "Content-Type: application/json" "$out"
get_json fy service from-yaml
expect_field "create -f port" fy 'spec.ports[0]' \
  '{"name": "http", "port": 8081, "protocol": "TCP", "targetPort": "http"}'

finish
