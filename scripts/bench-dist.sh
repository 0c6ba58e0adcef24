#!/usr/bin/env bash
# Data-parallel scaling of `maskdet bench`'s training step: 1 rank, then 2, 4, ... up to --ranks
# (mpirun on this machine, OMP_NUM_THREADS threads each), the same global batch every time, and
# a Markdown table of images/s, scaling efficiency (images/s over N x the 1-rank figure), the
# median gradient all-reduce time per step, and the median time after backward ended spent
# waiting for the last buckets and copying the sums back (what running them during backward
# did not hide). Copy the table into docs/BENCHMARKS.md. `-- ... --no-overlap` measures
# the all-reduce started only after backward.
#   scripts/bench-dist.sh [--ranks N] [--threads T] [-- maskdet bench flags...]
#   default: --ranks 2 --threads 1 -- --backbone resnet18 --fpn-channels 64 --size 256x256 --batch-size 8
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=2
threads=1
while (($#)); do
  case "$1" in
    --ranks) ranks="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--ranks N] [--threads T] [-- maskdet bench flags]" >&2; exit 2 ;;
  esac
done
flags=("$@")
((${#flags[@]})) || flags=(--backbone resnet18 --fpn-channels 64 --size 256x256 --batch-size 8)
maskdet=build/apps/maskdet
[[ -x $maskdet ]] || maskdet=build/apps/maskdet_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=$((29500 + RANDOM % 1000))
n=1
results=()
while ((n <= ranks)); do
  json="$out/ranks_$n.json"
  if ((n == 1)); then
    OMP_NUM_THREADS=$threads "$maskdet" bench --mode train --warmup 2 --iters 8 "${flags[@]}" --json "$json" > "$out/log_$n"
  else
    mpirun --allow-run-as-root --oversubscribe -np "$n" -x OMP_NUM_THREADS="$threads" -x MASTER_PORT="$port" \
      "$maskdet" bench --mode train --warmup 2 --iters 8 "${flags[@]}" --json "$json" > "$out/log_$n"
  fi
  results+=("$json")
  n=$((n * 2))
done
head -1 "$out/log_1"
python3 - "$threads" "${results[@]}" <<'PY'
import json, sys
threads = sys.argv[1]
runs = [json.load(open(p)) for p in sys.argv[2:]]
base = runs[0]["figures"]["train_images_per_s"]
print("\n| ranks | threads per rank | step p50 (ms) | images/s | scaling efficiency | all-reduce per step, p50 (ms) "
      "| after backward: wait + copy-back, p50 (ms) |")
print("|---:|---:|---:|---:|---:|---:|---:|")
def ms(value):
    return "-" if value is None else f"{value:.1f}"
for r in runs:
    f, n = r["figures"], r["config"]["ranks"]
    print(f"| {n} | {threads} | {f['train_step_ms_p50']:.1f} | {f['train_images_per_s']:.2f} | "
          f"{100 * f['train_images_per_s'] / (n * base):.0f}% | {ms(f.get('all_reduce_ms_p50'))} | "
          f"{ms(f.get('all_reduce_exposed_ms_p50'))} |")
PY
