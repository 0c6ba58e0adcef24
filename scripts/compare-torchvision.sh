#!/usr/bin/env bash
# maskdet against torchvision's RetinaNet on the same split, threads and training wall time
# (issue 11, deliverable 4): tools/compare_torchvision.py reads a run folder of
# scripts/run-main.sh, trains tools/train_torchvision_retinanet.py for as long as maskdet trained,
# and prints one side-by-side table (per-class AP@0.5, mAP@0.5, mAP@[.5:.95], class-agnostic
# AP@0.5, training images/s, inference ms/image). Needs Debian's python3-torch and
# python3-torchvision (scripts/install-deps.sh --torch) and the ImageNet MobileNetV2 weights
# (scripts/fetch-weights.sh).
#
#   scripts/compare-torchvision.sh [RUN] [--full] [--budget-seconds S] [--threads N] [--data DIR]
#                                  [--flip-test] [--no-maskdet-detect] [--out DIR] [-- REFERENCE FLAGS...]
#
# --flip-test scores both with the test-time flip as well; a run trained with --ema has the
# reference keep the same average, and both sides' trained weights are scored too.
#
# RUN (default runs/main) and the other paths are relative to the repository root, as in
# run-main.sh. The sizes and schedule come from the run's newest snapshot; --full picks the full
# run's (320/480 px) only when the run has none. Results: RUN/torchvision/results.json (the
# reference), maskdet_rescored.json (maskdet's detections scored by the reference's evaluator,
# when build/apps/maskdet is there) and comparison.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1; then
  echo "compare-torchvision.sh: /usr/bin/python3 cannot import torch and torchvision (scripts/install-deps.sh --torch)" >&2
  exit 1
fi
exec /usr/bin/python3 tools/compare_torchvision.py "$@"
