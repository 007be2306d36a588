#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, and run skiff's main job
# on its embedded default (SQLite in the data directory, /var/lib/skiff unless
# --data-dir is given). Extra arguments go to skiff.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec build/skiff up "$@"
