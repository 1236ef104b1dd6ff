#!/usr/bin/env bash
# Issue 15's load table: one server per model on a free loopback port (defaults of `tessera serve`), then loadgen with
# 1, 8, 32 and 64 clients, binary tensors, after a warm-up. Needs a quiet machine (loadgen shares the cores).
#   tools/measure_serve.sh [SECONDS=20] [MODELS="resnet18 mobilenet_v2"] [EXTRA serve flags...]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS="${1:-20}"; MODELS="${2:-resnet18 mobilenet_v2}"; shift 2 2>/dev/null || shift $#
"$ROOT/tessera" help >/dev/null   # builds when sources changed
for m in $MODELS; do
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  LOG=$(mktemp)
  "$ROOT/tessera" serve --model "$m=/tmp/tessera-models/$m.onnx" --port "$PORT" "$@" > "$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 120); do grep -q "listening on" "$LOG" && break; sleep 0.5; done
  URL="http://127.0.0.1:$PORT"
  "$ROOT/tessera" loadgen --url "$URL" --model "$m" --input /tmp/x224.npy --clients 8 --seconds 5 > /dev/null 2>&1  # warm-up
  for c in 1 8 32 64; do
    echo "$m $("$ROOT/tessera" loadgen --url "$URL" --model "$m" --input /tmp/x224.npy --clients "$c" --seconds "$SECS" 2>/dev/null | grep '^loadgen:')"
  done
  kill -TERM "$PID"; wait "$PID" 2>/dev/null; rm -f "$LOG"
done
