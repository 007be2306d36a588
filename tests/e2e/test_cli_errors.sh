#!/usr/bin/env bash
# Every error a user must get from skiff, with exit code 1.
source "$(dirname "$0")/kube_lib.sh"
start_apiserver
s() { "$SKIFF" "$@"; }

# Unknown resource type, with the nearest name.
run_capture out s get pdos
expect_eq "unknown type exits 1" 1 "$RC"
expect_eq "unknown type message" 'error: the server doesn'"'"'t have a resource type "pdos" (did you mean "pods"?)' "$out"

# Not found.
run_capture out s get pods x
expect_eq "not found exits 1" 1 "$RC"
expect_eq "not found message" 'Error from server (NotFound): pods "x" not found' "$out"
run_capture out s delete pod x
expect_eq "delete not found exits 1" 1 "$RC"
expect_eq "delete not found message" 'Error from server (NotFound): pods "x" not found' "$out"

# Unknown field: the server's message, with the closest valid field; the other
# documents of the file are still applied, in order.
cat >"$E2E_TMP/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: bad
spec:
  port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: good
spec:
  ports:
  - port: 80
YAML
cd "$E2E_TMP"
run_capture out s apply -f svc.yaml
expect_eq "unknown field exits 1" 1 "$RC"
expect_contains "unknown field message" 'Error from server (BadRequest): error when creating "svc.yaml": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.port", did you mean "spec.ports"?' "$out"
expect_contains "later document still applied" "service/good created" "$out"
run_capture kout k apply -f svc.yaml
expect_contains "kubectl prints the same error" 'error when creating "svc.yaml": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.port"' "$kout"

# YAML syntax error: file, line, column, what was expected.
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n labels: y\n' >"$E2E_TMP/bad.yaml"
run_capture out s apply -f bad.yaml
expect_eq "yaml error exits 1" 1 "$RC"
expect_eq "yaml error message" 'error: error parsing bad.yaml: error converting YAML to JSON: yaml: line 5, column 2: did not find expected key (check the indentation of this line and the one above)' "$out"
printf 'a: b: c\n' >"$E2E_TMP/bad2.yaml"
run_capture out s apply -f bad2.yaml
expect_contains "mapping values message" "yaml: line 1, column 5: mapping values are not allowed in this context" "$out"
run_capture out s apply -f missing.yaml
expect_eq "missing file exits 1" 1 "$RC"
expect_eq "missing file message" 'error: the path "missing.yaml" does not exist' "$out"

# apply --help says documents are applied in order and each failure reported.
run_capture out s apply --help
expect_eq "apply --help exits 0" 0 "$RC"
expect_contains "help: order" "applied in order" "$out"
expect_contains "help: each failure" "each failure is reported" "$out"
for verb in up down apply create replace get describe delete wait version api-resources completion; do
  run_capture out s "$verb" --help
  if [ "$RC" = 0 ] && grep -q "Examples:" <<<"$out"; then pass "$verb --help has examples"; else fail "$verb --help"; fi
done
run_capture out s get pods --bogus
expect_eq "unknown flag exits 1" 1 "$RC"
expect_contains "unknown flag message" "error: unknown flag: --bogus" "$out"

# Wrong token: 401 explained.
sed 's/token: .*/token: not-the-token/' "$KUBECONFIG" >"$E2E_TMP/badtoken"
run_capture out s get pods --kubeconfig "$E2E_TMP/badtoken"
expect_eq "401 exits 1" 1 "$RC"
expect_contains "401 message" "error: You must be logged in to the server (Unauthorized)" "$out"
expect_contains "401 hint" "hint: the server refused the token" "$out"

# Server down: kubectl's message plus a hint to run skiff up.
stop_apiserver
run_capture out s get pods
expect_eq "server down exits 1" 1 "$RC"
expect_contains "refused message" "The connection to the server 127.0.0.1:$PORT was refused - did you specify the right host or port?" "$out"
expect_contains "refused hint" "skiff up" "$out"
run_capture out s get pods --kubeconfig "$E2E_TMP/nope"
expect_eq "missing kubeconfig exits 1" 1 "$RC"
finish
