#!/usr/bin/env bash
# The main job, from a fresh machine: install the dependencies, build `maskdet`, train the
# face-mask detector on the CPU, score it on its validation split and draw its detections.
#
#   scripts/run-main.sh [DATA] [OUT]          the quick run: about 15 minutes on 2 cores
#   scripts/run-main.sh --full [DATA] [OUT]   the full-quality run (hours on a CPU; docs/RESULTS.md)
#
# DATA: a VOC folder (images/ + annotations/) or a CSV file; by default ../shared/data/facemask
# when it is there, else a synthetic face-mask set written by make_synthetic_voc.
# OUT (default runs/main, or runs/full): snapshots/ (weights, logs, training_curves.png),
# evaluation/ (results.json, precision_recall.png) and detections/ (annotated images, JSON lines).
# A second run with the same OUT resumes training where the first stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

full=0
if [[ "${1:-}" == "--full" ]]; then
  full=1
  shift
fi
data="${1:-}"
out="${2:-runs/$([[ $full == 1 ]] && echo full || echo main)}"

scripts/install-deps.sh
MASKDET_BUILD_TARGETS="maskdet make_synthetic_voc" scripts/build.sh
bin=build/apps

if [[ -z "$data" ]]; then
  if [[ -d ../shared/data/facemask/annotations ]]; then
    data=../shared/data/facemask
  else
    data="$out/synthetic_voc"
    echo "../shared/data/facemask is not here: training on a synthetic face-mask set in $data"
    "$bin/make_synthetic_voc" --out "$data" --count 600 --seed 1
  fi
fi
mkdir -p "$out"

# Quick: ResNet-18 from scratch (no pretrained weights are fetched), 192-256 px images, 8 epochs.
# Full: larger images, more epochs, the paper's 256-channel heads. With ImageNet weights converted
# as in docs/WEIGHTS.md, add `--weights FILE` to either.
if [[ $full == 1 ]]; then
  model=(--backbone resnet18 --fpn-channels 128 --image-min-side 384 --image-max-side 640)
  schedule=(--epochs 40 --batch-size 8 --lr 2e-3 --lr-schedule cosine --warmup-steps 200)
else
  model=(--backbone resnet18 --fpn-channels 64 --image-min-side 192 --image-max-side 256)
  schedule=(--epochs 8 --batch-size 8 --lr 2e-3 --lr-schedule cosine --warmup-steps 60)
fi
# A second run goes on with the first one's snapshots: train refuses to start afresh over them.
resume=()
if compgen -G "$out/snapshots/epoch_*.safetensors" > /dev/null; then
  resume=(--resume "$out/snapshots")
fi
"$bin/maskdet" train --data "$data" --snapshot-path "$out/snapshots" --val-fraction 0.2 --seed 1 \
  --random-transform --cache "$out/train.cache" "${model[@]}" "${schedule[@]}" "${resume[@]}" \
  ${MASKDET_TRAIN_FLAGS:-}

# The same fixed split training held out (fraction 0.2, seed 1): mAP@0.5 per class.
"$bin/maskdet" evaluate --snapshot "$out/snapshots" --data "$data" --val-fraction 0.2 \
  --cache "$out/train.cache" --out "$out/evaluation"

# A few validation images, drawn with their detections.
mapfile -t images < <(head -n 8 "$out/evaluation/images.txt")
rm -rf "$out/detections"
"$bin/maskdet" detect --snapshot "$out/snapshots" --threshold 0.5 --out "$out/detections" "${images[@]}"
echo "main job done: results in $out (evaluation/results.json, detections/, snapshots/training_curves.png)"
