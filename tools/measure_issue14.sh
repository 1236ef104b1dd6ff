#!/usr/bin/env bash
# The measurements behind issue 14's closing note, in one run (needs a quiet machine: nothing else building or
# benchmarking). Tessera and ONNX Runtime Java in the same JMH run; PyTorch/oneDNN convolutions right after ConvBench.
#   tools/measure_issue14.sh [OUT_DIR=/tmp/issue14]   (models from tools/make_torchvision_onnx.py in /tmp/tessera-models)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-/tmp/issue14}"; mkdir -p "$OUT"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$ROOT/bench/target/benchmarks.jar"
JMH=("$JAVA" --add-modules jdk.incubator.vector --sun-misc-unsafe-memory-access=allow -jar "$JAR" -f 1)
grep -m1 "model name" /proc/cpuinfo > "$OUT/machine.txt"; grep -o -w -E "avx512f|avx2|fma" /proc/cpuinfo | sort -u >> "$OUT/machine.txt"
"${JMH[@]}" PeakFmaBench -wi 3 -w 2 -i 5 -r 2 -rf json -rff "$OUT/peak.json" > "$OUT/peak.log" 2>&1
"${JMH[@]}" 'GemmBench.nn' -p size=1024 -p threads=1,2 -wi 4 -w 2 -i 6 -r 2 -rf json -rff "$OUT/gemm.json" > "$OUT/gemm.log" 2>&1
"${JMH[@]}" ModelBench -p model=resnet50 -p batch=1 -p threads=1 -wi 3 -w 4 -i 5 -r 4 -rf json -rff "$OUT/r50_b1.json" > "$OUT/r50_b1.log" 2>&1
"${JMH[@]}" ModelBench -p model=resnet50 -p batch=16 -p threads=2 -wi 2 -w 8 -i 4 -r 8 -rf json -rff "$OUT/r50_b16.json" > "$OUT/r50_b16.log" 2>&1
"${JMH[@]}" ModelBench -p model=mobilenet_v2,resnet18,googlenet -p batch=1 -p threads=1 -wi 3 -w 3 -i 5 -r 3 -rf json -rff "$OUT/small_b1.json" > "$OUT/small_b1.log" 2>&1
"${JMH[@]}" ConvBench -p algo=auto -wi 3 -w 2 -i 5 -r 2 -rf json -rff "$OUT/conv.json" > "$OUT/conv.log" 2>&1
/usr/bin/python3 "$ROOT/../shared/tools/torch_conv.py" 1 1 r18_conv1 r18_64_56 r18_128_28 r18_256_14 r18_512_7 r18_down_128_56 r50_1x1_256_64_56 r50_1x1_512_2048_7 vgg_64_224 > "$OUT/torch_conv.txt" 2>&1
echo "results in $OUT"
