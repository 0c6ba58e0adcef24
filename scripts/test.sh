#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --torch  # PyTorch: the fixture-remaking and interop tests
scripts/build.sh "$@"
# The ImageNet MobileNetV2 weights for its logits test (converted once, kept in build/weights).
scripts/fetch-weights.sh --out build/weights/mobilenet_v2_imagenet.safetensors ||
  echo "could not fetch the MobileNetV2 weights: MobileNetV2ImageNet.GivesTorchvisionsLogitsAndTop5 will skip"
ctest --test-dir build --output-on-failure -j "$(nproc)"
