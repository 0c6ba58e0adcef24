#!/usr/bin/env bash
# Remakes the PyTorch reference fixtures on this machine into a temporary folder and checks that
# they are byte-identical to the committed ones, so the parity, torch and optim tests are known to
# pass with fixtures made here, not only with the committed copies.
# Needs Debian's /usr/bin/python3 with python3-torch and python3-torchvision
# (scripts/install-deps.sh --torch); exits 77 (CTest's skip) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
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
status=0
for pair in "retinanet_r18.safetensors tests/parity/data" "retinanet_resnet50_fpn_keys.txt tests/parity/data" \
            "forward.safetensors tests/torch_fixtures/data" "optim.safetensors tests/optim/data"; do
  set -- $pair
  if cmp -s "$out/$1" "$2/$1"; then
    echo "remade $2/$1: identical"
  else
    echo "remade $2/$1: DIFFERS from the committed file (torch $("$python" -c 'import torch; print(torch.__version__)'))"
    status=1
  fi
done
exit $status
