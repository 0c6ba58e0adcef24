#!/usr/bin/env bash
# Configures and builds maskdet in ./build (Release). Extra arguments go to cmake's configure step,
# e.g. scripts/build.sh -DMASKDET_CUDA=OFF or -DCMAKE_CUDA_ARCHITECTURES=90.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
