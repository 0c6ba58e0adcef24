#!/usr/bin/env bash
# Configures and builds maskdet in ./build (Release). Extra arguments go to cmake's configure step,
# e.g. scripts/build.sh -DMASKDET_CUDA=OFF or -DCMAKE_CUDA_ARCHITECTURES=90.
# MASKDET_BUILD_TARGETS="maskdet ..." builds only those targets (the main job needs no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
targets=()
for target in ${MASKDET_BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build build -j "$(nproc)" "${targets[@]}"
