#!/usr/bin/env bash
# Configures and builds skiff into build/ (build/skiff is the one executable).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
