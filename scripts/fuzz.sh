#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz/ and runs each for a
# bounded time, starting from a small seed corpus of valid annotations. Crashing inputs are
# written to build-fuzz/crashes/<target>/; the script fails if any target fails.
#   scripts/fuzz.sh [seconds per target, default 60] [build folder, default build-fuzz]
# Needs clang and libclang-rt-dev (libFuzzer and the sanitizer runtimes), tinyxml2, OpenCV.
set -euo pipefail
seconds="${1:-60}"
build="${2:+$(realpath -m "$2")}"
cd "$(dirname "$0")/.."
build="${build:-build-fuzz}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMASKDET_FUZZ=ON -DMASKDET_CUDA=OFF -DMASKDET_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_voc_xml fuzz_csv

# Seed corpora: one valid input of each kind, so the fuzzer starts past the first bytes.
mkdir -p "$build/corpus/fuzz_voc_xml" "$build/corpus/fuzz_csv"
cat >"$build/corpus/fuzz_voc_xml/seed.xml" <<'XML'
<annotation><filename>0.jpg</filename><size><width>64</width><height>48</height><depth>3</depth></size>
<object><name>mask</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>
</annotation>
XML
printf 'img/a.jpg,1,2,30,40,mask\n"b,c.jpg",,,,,\nimg/a.jpg,5.5,6,7,8,noMask\n' >"$build/corpus/fuzz_csv/seed.csv"
printf 'mask,0\nnoMask,1\n' >"$build/corpus/fuzz_csv/classes.csv"

status=0
for target in fuzz_voc_xml fuzz_csv; do
  mkdir -p "$build/crashes/$target"
  echo "== $target: ${seconds}s"
  if ! "$build/tests/fuzz/$target" "$build/corpus/$target" -max_total_time="$seconds" -max_len=4096 \
      -artifact_prefix="$build/crashes/$target/" -print_final_stats=1 2>"$build/$target.log"; then
    status=1
    echo "$target FAILED; see $build/$target.log and $build/crashes/$target/"
  fi
  grep -E "^(stat::number_of_executed_runs|stat::peak_rss_mb)|Done [0-9]+ runs" "$build/$target.log" || true
done
exit $status
