#!/usr/bin/python3
"""PyTorch eager latency of torchvision models, for comparison with bench/ModelBench (same machine, same settings).

    /usr/bin/python3 tools/torch_model_latency.py THREADS BATCH model [model ...]

Prints one line per model: warm-up 3 runs, then the median of 10 timed runs in ms (and images/s).
"""
import statistics
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from make_torchvision_onnx import build  # noqa: E402


def main():
    threads, batch = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    for name in sys.argv[3:]:
        model = build(name)
        x = torch.randn(batch, 3, 224, 224)
        with torch.no_grad():
            for _ in range(3):
                model(x)
            times = []
            for _ in range(10):
                t = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t) * 1e3)
        med = statistics.median(times)
        print(f"torch-eager {name} threads={threads} batch={batch} median {med:.1f} ms ({batch * 1e3 / med:.1f} img/s)")


if __name__ == "__main__":
    main()
