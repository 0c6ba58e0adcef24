#!/usr/bin/env bash
# Builds, on a machine with the CUDA toolkit and no GPU, what scripts/gpu-check.sh runs on a lent
# GPU machine (H100 / H200: sm_90), with the CUDA kernels dispatched (-DMASKDET_CUDA_KERNELS=ON),
# and packs the programs with the libraries they load into build-gpu/pack
# (../shared/tools/device-pack: the GPU machine brings CUDA, cuDNN and cuBLAS itself, but no
# OpenCV, tinyxml2 or OpenBLAS). Carry build-gpu/pack with the device tool's run (see
# scripts/gpu-check.sh).
#   scripts/gpu-pack.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
pack_tool=../shared/tools/device-pack
[[ -x $pack_tool ]] || { echo "gpu-pack: $pack_tool is missing (it comes with the workplace's shared folder)"; exit 2; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DMASKDET_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DMASKDET_CUDA_KERNELS=ON "$@"
programs=(tests/maskdet_gpu_core_tests tests/maskdet_gpu_nn_tests tests/maskdet_gpu_detection_tests
  bench/cuda_bench apps/maskdet_bench)
targets=()
for p in "${programs[@]}"; do targets+=(--target "$(basename "$p")"); done
cmake --build build-gpu -j "$(nproc)" "${targets[@]}"
rm -rf build-gpu/pack
"$pack_tool" build-gpu/pack "${programs[@]/#/build-gpu/}"
if ldd build-gpu/apps/maskdet_bench | grep -qi opencv; then
  echo "gpu-pack: maskdet_bench links OpenCV; the GPU machine has none" >&2
  exit 1
fi
