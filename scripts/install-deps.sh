#!/usr/bin/env bash
# Installs every Debian package skiff needs to build, test and benchmark.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang-format
  # libraries (see ARCHITECTURE.md "Decisions already taken")
  catch2 nlohmann-json3-dev libyaml-cpp-dev
  libboost-dev libboost-program-options-dev libboost-system-dev
  libcurl4-openssl-dev libsqlite3-dev libssl-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libnftnl-dev libmnl-dev
  libldns-dev libarchive-dev libjemalloc-dev
  # runtime
  runc conmon nftables iproute2 busybox-static sqlite3 curl openssl
  # tests and benchmarks: the reference client, the Python client, peers
  python3 python3-kubernetes etcd-server etcd-client iperf3 haproxy procps
  # bench_first_conn: the kube-proxy-iptables-shaped peer (iptables-legacy-restore)
  iptables
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting daemons (etcd) we start ourselves.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
