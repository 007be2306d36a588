#!/usr/bin/env bash
# kill -9 of the kubelet with pods running, then restart (issue 4's faults),
# with real runc containers: `skiff up` (which runs the kubelet) is killed
# while a long-running pod runs and a restartPolicy=Never pod is about to exit
# with code 7; once that container has exited, `skiff up` starts again on the
# same data directory. Nothing is restarted (restartCount 0, the same
# container: same ID, start time and host PID), both are re-adopted, and the
# exit that happened meanwhile is recorded (exit code 7, reason Error, phase
# Failed). Then every pod is deleted, and no netns, veth, overlay mount,
# cgroup, runc container or conmon of theirs remains.
# Traffic: none beyond the API on 127.0.0.1 and the kubelet's own probes.
source "$(dirname "$0")/kube_lib.sh"
require_root

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
start_lasting_cluster
run_capture out "$SKIFF" image load --data-dir "$DATA" "$E2E_TMP/busybox.tar"
expect_eq "image load" "Loaded image: busybox:latest" "$out"

cat >"$E2E_TMP/pods.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: long}
spec:
  terminationGracePeriodSeconds: 2  # sleep as PID 1 ignores SIGTERM
  containers:
  - name: main
    image: busybox:latest
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: short}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "sleep 5; exit 7"]
EOF
run_capture out k apply -f "$E2E_TMP/pods.yaml"
expect_eq "pods created" "pod/long created
pod/short created" "$out"
run_capture out k wait --for=condition=Ready pod/long pod/short --timeout=60s
expect_contains "both pods Ready" "pod/short condition met" "$out"

jp() { k get pod "$1" -o jsonpath="$2" 2>/dev/null; }
runc_id() { local id; id=$(jp "$1" '{.status.containerStatuses[0].containerID}'); echo "${id#*://}"; }
runc_field() { runc --root "$LASTING_RUNC_ROOT" state "$1" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])" 2>/dev/null; }
LONG_UID=$(jp long '{.metadata.uid}')
SHORT_UID=$(jp short '{.metadata.uid}')
LONG_ID=$(runc_id long)
SHORT_ID=$(runc_id short)
LONG_STARTED=$(jp long '{.status.containerStatuses[0].state.running.startedAt}')
LONG_PID=$(runc_field "$LONG_ID" pid)
expect_eq "the long container runs in runc (pid ${LONG_PID:-none})" running "$(runc_field "$LONG_ID" status)"
VETHS=$(ip -o link show master "$BRIDGE" | grep -c veth || true)
expect_eq "one veth per pod on the cluster's bridge" 2 "$VETHS"

kill_lasting_up
pass "killed skiff up (and its kubelet) with both pods running"
# The short container exits on its own while no kubelet watches.
short_stopped() { [ "$(runc_field "$SHORT_ID" status)" = stopped ]; }
wait_for 30 short_stopped || true
expect_eq "the short container exited while the kubelet was down" stopped "$(runc_field "$SHORT_ID" status)"

lasting_up && pass "skiff up restarts on the same data dir" || fail "skiff up restarts on the same data dir"
short_failed() { [ "$(jp short '{.status.phase}')" = Failed ]; }
wait_for 30 short_failed || true
expect_eq "the exit that happened meanwhile is recorded: exit code 7, reason Error, phase Failed" \
  "7 Error Failed" \
  "$(jp short '{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason} {.status.phase}')"
expect_eq "the short container was not run again" "0 $SHORT_ID" \
  "$(jp short '{.status.containerStatuses[0].restartCount}') $(runc_id short)"
sleep 2  # a few kubelet syncs: a restart would show by now
expect_eq "long: restartCount unchanged" 0 "$(jp long '{.status.containerStatuses[0].restartCount}')"
expect_eq "long: the same container (ID and start time)" "$LONG_ID $LONG_STARTED" \
  "$(runc_id long) $(jp long '{.status.containerStatuses[0].state.running.startedAt}')"
expect_eq "long: the same process, still running in runc" "$LONG_PID running" \
  "$(runc_field "$LONG_ID" pid) $(runc_field "$LONG_ID" status)"
expect_eq "long: Running and Ready after the restart" "Running True" \
  "$(jp long '{.status.phase} {.status.conditions[?(@.type=="Ready")].status}')"
run_capture out k exec long -- sh -c 'tr "\0" " " </proc/1/cmdline'
expect_eq "exec reaches the re-adopted container" "sleep 3600 " "$out"

# ---- delete everything: nothing of the pods may stay ------------------------
# What the checks below look for exists while a pod runs (so they can fail).
# (grep -q reads here-strings, not pipes: with pipefail its early exit would
# fail the writer.)
leftovers() {  # leftovers UID: one line per kind of object the pod still has
  grep -qF "$1" <<<"$(ls /run/netns)" && echo netns
  grep -qF "$1" /proc/mounts && echo mount
  [ -n "$(find /sys/fs/cgroup -maxdepth 4 -type d -name "${1}_*")" ] && echo cgroup
  grep -qF "$1" <<<"$(runc --root "$LASTING_RUNC_ROOT" list -q)" && echo runc
  grep -qF "$1" <<<"$(ps -eo args)" && echo process
  [ -e "$DATA/pods/$1" ] && echo dir
  true
}
expect_eq "a running pod has a netns, mounts, a cgroup, a runc container, conmon, a dir" \
  "netns mount cgroup runc process dir" "$(leftovers "$LONG_UID" | tr '\n' ' ' | sed 's/ $//')"
run_capture out k delete pod long short --timeout=60s
expect_contains "both pods deleted" 'pod "short" deleted' "$out"
wait_for 30 sh -c "[ -z \"\$($KUBECTL get pods --no-headers 2>/dev/null)\" ]" || true
expect_eq "no pod left in the API" "" "$(k get pods --no-headers 2>/dev/null)"
for uid in "$LONG_UID" "$SHORT_UID"; do
  expect_eq "nothing left of pod $uid (netns, mount, cgroup, runc, process, dir)" "" \
    "$(leftovers "$uid" | tr '\n' ' ' | sed 's/ $//')"
done
run_capture out sh -c "ip -o link show master $BRIDGE"
expect_eq "no veth left on the cluster's bridge" "" "$out"
run_capture out sh -c "grep -F '$DATA/' /proc/mounts"
expect_eq "no mount left under the cluster's data directory" "" "$out"
finish
