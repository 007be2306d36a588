#!/usr/bin/env bash
# Rolling updates under traffic, with real pods (issue 6): a 5-replica
# Deployment (maxSurge 1, maxUnavailable 0) behind a ClusterIP while a client
# on the host makes requests in a loop; `skiff set image` to a second image
# tag and `kubectl rollout undo` must each complete with zero failed requests.
# Then `skiff up` itself is killed (-9) mid-rollout and started again on the
# same data directory: the rollout must resume and complete. A sampler reads
# the pods from the API every 100 ms throughout: never more than
# replicas + maxSurge pods at once, never fewer ready than
# replicas - maxUnavailable.
#
# The cluster must survive a restart, so it is a lasting one with names of
# its own (start_lasting_cluster in kube_lib.sh), torn down by the exit trap.
# Traffic goes only to 127.0.0.1, the cluster's bridge, pods and ClusterIPs.
source "$(dirname "$0")/kube_lib.sh"
require_root

REPLICAS=5
MAX_SURGE=1
CLIENT_PID=""
SAMPLER_PID=""
rollout_cleanup() {
  for p in "$CLIENT_PID" "$SAMPLER_PID"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  cleanup
}
trap rollout_cleanup EXIT

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox-v2.tar" busybox:v2 >/dev/null
start_lasting_cluster
run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox.tar"
expect_eq "image load busybox:latest" "Loaded image: busybox:latest" "$out"
run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox-v2.tar"
expect_eq "image load busybox:v2" "Loaded image: busybox:v2" "$out"

cat >"$E2E_TMP/roll.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: $REPLICAS
  selector:
    matchLabels: {app: roll}
  strategy:
    rollingUpdate: {maxSurge: $MAX_SURGE, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: roll}
    spec:
      # httpd as PID 1 ignores SIGTERM: a deleted pod serves on until SIGKILL
      # 3 s later, so the zero-failure checks below are about the Service
      # switching over (readiness gating, endpoints, rules), not about the
      # order of SIGTERM and endpoint removal (see the last phase).
      terminationGracePeriodSeconds: 3
      containers:
      - name: web
        image: busybox:latest
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: roll
spec:
  selector: {app: roll}
  ports: [{port: 80, targetPort: 8080}]
EOF
run_capture out k apply -f "$E2E_TMP/roll.yaml"
expect_contains "deployment and service created" "service/roll created" "$out"
run_capture out k rollout status deploy/roll --timeout=120s
expect_contains "$REPLICAS replicas roll out" "successfully rolled out" "$out"
CIP=$(k get svc roll -o jsonpath='{.spec.clusterIP}')
wait_for 20 sh -c "[ \$($KUBECTL get ep roll -o jsonpath='{.subsets[0].addresses[*].ip}' | wc -w) = $REPLICAS ]" || true
wait_for 10 curl -sf --max-time 2 "http://$CIP/" || true

# The client: a new connection per request, 50 a second, until its stop file
# appears; prints "ok N failed M" and the first failures.
cat >"$E2E_TMP/client.py" <<'PY'
import http.client, os, sys, time
ip, stop = sys.argv[1], sys.argv[2]
ok = failed = 0
errors = []
while not os.path.exists(stop):
    try:
        c = http.client.HTTPConnection(ip, 80, timeout=2)
        c.request("GET", "/")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        if r.status == 200 and body.startswith("roll-"):
            ok += 1
        else:
            failed += 1
            errors.append(f"{time.strftime('%T')} HTTP {r.status} {body[:60]!r}")
    except Exception as e:
        failed += 1
        errors.append(f"{time.strftime('%T')} {e!r}")
    time.sleep(0.02)
print(f"ok {ok} failed {failed}")
for e in errors[:5]:
    print("  " + e)
PY
start_client() {
  rm -f "$E2E_TMP/client.stop"
  python3 "$E2E_TMP/client.py" "$CIP" "$E2E_TMP/client.stop" >"$E2E_TMP/client.out" 2>&1 &
  CLIENT_PID=$!
}
# stop_client: stops it and sets $client to its summary line.
stop_client() {
  touch "$E2E_TMP/client.stop"
  wait "$CLIENT_PID" 2>/dev/null || true
  CLIENT_PID=""
  client=$(head -1 "$E2E_TMP/client.out")
  sed -n '2,$p' "$E2E_TMP/client.out"
}

# The sampler: the Deployment's pods every 100 ms (API errors while skiff up
# is down are skipped); prints the most pods seen at once (not being deleted,
# not finished) and the fewest ready ones, with the moment of each.
cat >"$E2E_TMP/sampler.py" <<'PY'
import http.client, json, os, ssl, sys, time, yaml
kubeconfig, stop = sys.argv[1], sys.argv[2]
with open(kubeconfig) as f:
    kc = yaml.safe_load(f)
server = kc["clusters"][0]["cluster"]["server"].removeprefix("https://")
token = kc["users"][0]["user"]["token"]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
host, port = server.rsplit(":", 1)
most = (0, ""); fewest = (10**9, ""); samples = skipped = 0
while not os.path.exists(stop):
    try:
        c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=2)
        c.request("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Droll",
                  headers={"Authorization": "Bearer " + token})
        r = c.getresponse(); body = r.read(); c.close()
        if r.status != 200:
            raise RuntimeError(r.status)
        pods = json.loads(body)["items"]
    except Exception:
        skipped += 1; time.sleep(0.1); continue
    active = [p for p in pods if not p["metadata"].get("deletionTimestamp")
              and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
    ready = [p for p in active if any(c.get("type") == "Ready" and c.get("status") == "True"
                                      for c in p.get("status", {}).get("conditions", []))]
    now = time.strftime("%T")
    if len(active) > most[0]:
        most = (len(active), now)
    if len(ready) < fewest[0]:
        fewest = (len(ready), now)
    samples += 1
    time.sleep(0.1)
print(f"{most[0]} {fewest[0]} samples={samples} skipped={skipped} most_at={most[1]} fewest_at={fewest[1]}")
PY
python3 "$E2E_TMP/sampler.py" "$KUBECONFIG" "$E2E_TMP/sampler.stop" >"$E2E_TMP/sampler.out" 2>&1 &
SAMPLER_PID=$!

images() { k get pods -l app=roll -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//'; }

# ---- skiff set image under traffic -----------------------------------------
start_client
sleep 1
start=$SECONDS
run_capture out "$SKIFF" set image deployment/roll web=busybox:v2
expect_eq "skiff set image" "deployment.apps/roll image updated" "$out"
run_capture out k rollout status deploy/roll --timeout=120s
expect_contains "the rollout to busybox:v2 completes" "successfully rolled out" "$out"
SET_IMAGE_S=$((SECONDS - start))
sleep 1
stop_client
echo "# set image: rollout ${SET_IMAGE_S}s, client: $client"
expect_contains "set image: zero failed requests ($client)" " failed 0" "$client"
wait_for 30 sh -c "[ \"\$($KUBECTL get pods -l app=roll --no-headers | wc -l)\" = $REPLICAS ]" || true
expect_eq "every pod runs busybox:v2" "$REPLICAS busybox:v2" "$(images)"

# ---- kubectl rollout undo under traffic ------------------------------------
start_client
sleep 1
start=$SECONDS
run_capture out k rollout undo deployment/roll
expect_eq "kubectl rollout undo" "deployment.apps/roll rolled back" "$out"
run_capture out k rollout status deploy/roll --timeout=120s
expect_contains "the rollback completes" "successfully rolled out" "$out"
UNDO_S=$((SECONDS - start))
sleep 1
stop_client
echo "# rollout undo: rollout ${UNDO_S}s, client: $client"
expect_contains "rollout undo: zero failed requests ($client)" " failed 0" "$client"
wait_for 30 sh -c "[ \"\$($KUBECTL get pods -l app=roll --no-headers | wc -l)\" = $REPLICAS ]" || true
expect_eq "every pod runs busybox:latest again" "$REPLICAS busybox:latest" "$(images)"

# ---- kill -9 of skiff up mid-rollout, restart on the same data dir ---------
start_client
# minReadySeconds 2 makes this rollout last ~10 s, so the kill lands mid-way.
run_capture out k patch deploy roll -p '{"spec":{"minReadySeconds":2,"template":{"metadata":{"annotations":{"e2e/restart":"1"}}}}}'
expect_eq "a template change starts a rollout" "deployment.apps/roll patched" "$out"
# Kill once the new ReplicaSet has a ready pod and the old one still has some.
NEW_HASH=""
for _ in $(seq 1 100); do
  NEW_HASH=$(k get rs -l app=roll -o jsonpath='{range .items[?(@.status.readyReplicas>=1)]}{.metadata.annotations.deployment\.kubernetes\.io/revision} {.metadata.labels.pod-template-hash}{"\n"}{end}' 2>/dev/null | sort -n | tail -1 | awk '$1 >= 4 {print $2}')
  [ -n "$NEW_HASH" ] && break
  sleep 0.1
done
kill_lasting_up
expect_eq "killed skiff up mid-rollout (new ReplicaSet had a ready pod: ${NEW_HASH:-none})" yes \
  "$([ -n "$NEW_HASH" ] && echo yes || echo no)"
sleep 0.5
start=$SECONDS
lasting_up && pass "skiff up restarts on the same data dir" || fail "skiff up restarts on the same data dir"
run_capture out k rollout status deploy/roll --timeout=120s
expect_contains "after the restart the rollout resumes and completes" "successfully rolled out" "$out"
RESUME_S=$((SECONDS - start))
sleep 1
stop_client
echo "# kill -9 mid-rollout: completed ${RESUME_S}s after the restart, client: $client"
expect_contains "kill -9 of skiff up and restart: zero failed requests ($client)" " failed 0" "$client"
wait_for 30 sh -c "[ \"\$($KUBECTL get pods -l app=roll --no-headers | wc -l)\" = $REPLICAS ]" || true
run_capture out k get rs -l app=roll -o jsonpath='{range .items[*]}{.spec.replicas}{" "}{end}'
expect_eq "one ReplicaSet holds every replica, the others none" "$REPLICAS" \
  "$(tr ' ' '\n' <<<"$out" | grep -v '^0$' | grep . | tr -d '\n')"
expect_eq "every pod is of the new template" "$REPLICAS" \
  "$(k get pods -l app=roll -o jsonpath='{range .items[*]}{.metadata.annotations.e2e/restart}{"\n"}{end}' | grep -c '^1$')"

# ---- servers that stop on SIGTERM ----
# Issue 6: "a pod being deleted leaves the Endpoints before it receives
# SIGTERM". The kubelet first reports the pod not ready and holds SIGTERM
# until no Endpoints lists the pod's IP (kubelet/termination.h), so even
# servers that exit at once on SIGTERM (as most do) refuse nothing.
start_client
k patch deploy roll -p '{"spec":{"minReadySeconds":0,"template":{"spec":{"containers":[{"name":"web","command":["sh","-c","mkdir -p /www && hostname > /www/index.html && httpd -f -p 8080 -h /www & trap \"kill \\$!; exit 0\" TERM; wait"]}]}}}}' >/dev/null
run_capture out k rollout status deploy/roll --timeout=120s
expect_contains "the rollout to servers that stop on SIGTERM completes" "successfully rolled out" "$out"
sleep 1
stop_client
expect_contains "servers that stop on SIGTERM: zero failed requests ($client)" " failed 0" "$client"
wait_for 30 sh -c "[ \"\$($KUBECTL get pods -l app=roll --no-headers | wc -l)\" = $REPLICAS ]" || true
expect_eq "every pod runs the new command" "$REPLICAS" \
  "$(k get pods -l app=roll -o jsonpath='{range .items[*]}{.spec.containers[0].command[2]}{"\n"}{end}' | grep -c 'trap')"

touch "$E2E_TMP/sampler.stop"
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
read -r MOST FEWEST REST <"$E2E_TMP/sampler.out" || true
echo "# sampler: most pods at once $MOST, fewest ready $FEWEST ($REST)"
expect_eq "never more than replicas + maxSurge pods at once (most seen: $MOST)" yes \
  "$([ "${MOST:-99}" -le $((REPLICAS + MAX_SURGE)) ] && echo yes || echo no)"
expect_eq "never fewer ready than replicas - maxUnavailable (fewest seen: $FEWEST)" yes \
  "$([ "${FEWEST:--1}" -ge "$REPLICAS" ] && echo yes || echo no)"

# Everything goes through the API; nothing of the pods may stay in the kernel.
run_capture out k delete deploy roll --timeout=60s
wait_for 60 sh -c "[ -z \"\$($KUBECTL get pods -l app=roll --no-headers 2>/dev/null)\" ]" || true
expect_eq "deleting the Deployment removes its pods" "" "$(k get pods --no-headers 2>&1 | grep -v 'No resources' || true)"
left=$(for d in "$DATA"/pods/*/; do [ -d "$d" ] && basename "$d"; done; true)
expect_eq "no pod directory left" "" "$left"
finish
