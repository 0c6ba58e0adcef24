#!/usr/bin/env bash
# The checks a lent GPU machine is for, as one prepared script (the device tool gives a session
# about 15 minutes of GPU time, the machine's start included, and at most 10 minutes a command).
# Build and pack here first (scripts/gpu-pack.sh), then run from the repository root there:
#   device run: command "scripts/gpu-check.sh tests", carry ["build-gpu/pack"], timeout_s 560
#   device run: command "scripts/gpu-check.sh bench", carry ["build-gpu/pack"], timeout_s 560
# or "all" for both in one call when the time allows. Stages:
#   tests  the CPU-vs-CUDA tests (label gpu), then compute-sanitizer memcheck on each program
#   bench  cuda_bench beside PyTorch (tools/bench_cuda_torch.py), then maskdet bench beside
#          torchvision (tools/bench_torchvision.py) for ResNet-50-FPN at 512x512 (issue 6), and
#          ResNet-18-FPN when time remains
# Every step has its own time limit, so a hang costs one step, not the call. Results go to $OUT
# (the device tool's folder; ./gpu-results elsewhere) in at most 8 files, what the tool brings
# back: summary.txt (each step's exit status and time), tests.log, memcheck.log, cuda_bench.log,
# detector_bench.log and the two benchmarks' JSON.
set -uo pipefail
cd "$(dirname "$0")/.."
stage=${1:-all}
out=${OUT:-gpu-results}
mkdir -p "$out"
# shellcheck disable=SC1091
source build-gpu/pack/env.sh || { echo "gpu-check: no build-gpu/pack (scripts/gpu-pack.sh, then carry it)"; exit 2; }
summary=$out/summary.txt

# step NAME LOG SECONDS COMMAND...: runs the command with a time limit, appending its output to
# LOG, and one line to the summary.
step() {
  local name=$1 log=$2 limit=$3
  shift 3
  local start=$SECONDS
  echo "=== $name: $*" >>"$log"
  timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  local verdict=ok
  ((rc == 124 || rc == 137)) && verdict="TIMED OUT after ${limit}s"
  ((rc != 0 && rc != 124 && rc != 137)) && verdict="FAILED"
  printf '%-28s rc=%-3d %4ds  %s\n' "$name" "$rc" $((SECONDS - start)) "$verdict" | tee -a "$summary"
  return $rc
}

{
  echo "gpu-check $stage, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
  python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "cudnn", torch.backends.cudnn.version())' 2>&1
} | tee -a "$summary"

gpu_tests=(maskdet_gpu_core_tests maskdet_gpu_nn_tests maskdet_gpu_detection_tests)

if [[ $stage == tests || $stage == all ]]; then
  for t in "${gpu_tests[@]}"; do step "$t" "$out/tests.log" 120 "$t" --gtest_brief=1; done
  # Skipped tests would mean the GPU was not seen: say so in the summary.
  grep -c "SKIPPED" "$out/tests.log" | sed 's/^/skipped test lines in tests.log: /' | tee -a "$summary"
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  if [[ -x $sanitizer ]]; then
    for t in "${gpu_tests[@]}"; do
      step "memcheck $t" "$out/memcheck.log" 150 "$sanitizer" --tool memcheck --leak-check full --error-exitcode 9 \
        "$t" --gtest_brief=1
    done
    grep -h "ERROR SUMMARY" "$out/memcheck.log" | tee -a "$summary"
  else
    echo "compute-sanitizer: not found on this machine" | tee -a "$summary"
  fi
fi

if [[ $stage == bench || $stage == all ]]; then
  step "cuda_bench (+ PyTorch)" "$out/cuda_bench.log" 150 cuda_bench
  # issue 6's configuration: ResNet-50-FPN, 512x512, batch 8, TF32; then the same at ResNet-18.
  # A maskdet run that fails leaves nothing to compare torchvision with.
  for backbone in resnet50 resnet18; do
    json=$out/maskdet_${backbone}_512.json
    step "maskdet bench $backbone" "$out/detector_bench.log" 150 maskdet_bench --device cuda --backbone "$backbone" \
      --size 512x512 --json "$json" || continue
    step "torchvision $backbone" "$out/detector_bench.log" 150 python3 tools/bench_torchvision.py --device cuda \
      --backbone "$backbone" --size 512x512 --maskdet-json "$json"
  done
  tail -n 30 "$out/detector_bench.log" >>"$summary"
fi
echo "results in $out" >&2
