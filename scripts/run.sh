#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, and run skiff's main
# job on its embedded default (SQLite in the data directory, /var/lib/skiff
# unless SKIFF_DATA says otherwise): bring the cluster up in the background,
# load the busybox image, apply the NodePort example (http-go-np: 80 -> 8080 ->
# 30001) with its pod, and show the answer from http://127.0.0.1:30001/.
# The cluster keeps running; `build/skiff down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh

DATA=${SKIFF_DATA:-/var/lib/skiff}
export KUBECONFIG=$DATA/kubeconfig
if [ -f "$DATA/skiff.pid" ] && kill -0 "$(cat "$DATA/skiff.pid")" 2>/dev/null; then
  echo "skiff is already running in $DATA (pid $(cat "$DATA/skiff.pid"))"
else
  build/skiff up --detach --data-dir "$DATA" "$@"
fi

image=$(mktemp /tmp/skiff-busybox.XXXXXX.tar)
trap 'rm -f "$image"' EXIT
bash scripts/make-busybox-image.sh "$image" >/dev/null
build/skiff image load --data-dir "$DATA" "$image"
build/skiff apply -f examples/pod.yaml
build/skiff apply -f examples/service-nodeport.yaml
build/skiff wait --for=condition=Ready pod/http-go --timeout=60s
for _ in $(seq 1 50); do
  curl -sf --max-time 2 http://127.0.0.1:30001/ >/dev/null && break
  sleep 0.2
done
echo "$ curl http://127.0.0.1:30001/"
curl -s --max-time 5 http://127.0.0.1:30001/
echo
echo "skiff is running (kubeconfig: $KUBECONFIG). Try: build/skiff get pods,svc -o wide;"
echo "kubectl --kubeconfig $KUBECONFIG get nodes. Stop it with: build/skiff down --data-dir $DATA"
