#!/usr/bin/env bash
# Issue 15's flatness run (closing note, not CI): `tessera serve` under loadgen for SECONDS with CLIENTS clients; every
# minute the server's RSS, heap used after a full GC (jcmd GC.run + GC.heap_info) and native memory of category
# Other (off-heap tensors: NMT summary) are printed.   tools/serve_soak.sh [MODEL=resnet18] [SECONDS=600] [CLIENTS=32]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
M="${1:-resnet18}"; SECS="${2:-600}"; CLIENTS="${3:-32}"
JCMD="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd"
"$ROOT/tessera" help >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
JDK_JAVA_OPTIONS="-XX:NativeMemoryTracking=summary" "$ROOT/tessera" serve --model "$M=/tmp/tessera-models/$M.onnx" --port "$PORT" > "$LOG" 2>&1 &
for _ in $(seq 1 120); do grep -q "listening on" "$LOG" && break; sleep 0.5; done
PID=$(pgrep -f "TesseraCli serve" | head -1)
"$ROOT/tessera" loadgen --url "http://127.0.0.1:$PORT" --model "$M" --input /tmp/x224.npy --clients "$CLIENTS" --seconds "$SECS" > /tmp/soak-loadgen.txt 2>&1 &
LG=$!
for ((t = 0; t <= SECS; t += 60)); do
  "$JCMD" "$PID" GC.run > /dev/null 2>&1
  HEAP=$("$JCMD" "$PID" GC.heap_info 2>/dev/null | grep -E "PSYoungGen|ParOldGen" | grep -oE "used [0-9]+K" | grep -oE '[0-9]+' | paste -sd+ | bc)
  OTHER=$("$JCMD" "$PID" VM.native_memory summary 2>/dev/null | grep -A1 "^-  *Other" | grep -oE "committed=[0-9]+KB" | head -1)
  echo "t=${t}s rss=$(ps -o rss= -p "$PID" | tr -d ' ')KB heap_used_after_gc=${HEAP}KB other_${OTHER}"
  [ "$t" -lt "$SECS" ] && sleep 60
done
wait "$LG"; grep '^loadgen:' /tmp/soak-loadgen.txt
kill -TERM "$PID"; wait 2>/dev/null; rm -f "$LOG"
