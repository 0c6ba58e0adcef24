#!/usr/bin/env bash
# The main job, from a fresh machine: install dependencies, build, run the end-to-end program.
# (For now the first end-to-end proof: a little CNN trained on generated shapes.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
build/apps/shapes_demo --steps 300 --min-accuracy 0.9
