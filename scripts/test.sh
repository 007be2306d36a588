#!/usr/bin/env bash
# Quick start, command 2: install what is needed, build, and run every test
# (unit tests, root tests against the kernel, and end-to-end tests with kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 "$@"
