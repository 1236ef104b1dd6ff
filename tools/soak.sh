#!/usr/bin/env bash
# Issue 18 soak runs (results go in the closing note, not CI):
#   8 threads x 10,000 runs of one shared ResNet-18 session, every output bit-identical to the single-threaded one;
#   heap and off-heap memory over 100,000 LeNet-5 inferences and 10,000 training steps.
# usage: tools/soak.sh [RESNET18.onnx] [RUNS_PER_THREAD] [INFERENCES] [STEPS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:-/tmp/tessera-models/resnet18.onnx}"
"$ROOT/tessera" help >/dev/null   # builds when sources changed
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
CP="$ROOT/cli/target/classes:$ROOT/cli/target/lib/*"
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -XX:+UseParallelGC)
"$JAVA" "${FLAGS[@]}" -cp "$CP" tessera.fuzz.Soak shared "$MODEL" 8 "${2:-10000}"
"$JAVA" "${FLAGS[@]}" -Xmx512m -cp "$CP" tessera.fuzz.Soak lenet "${3:-100000}" "${4:-10000}"
