#!/usr/bin/env python3
"""PyTorch torch.mm (OpenBLAS/MKL) GFLOP/s on the GemmBench shapes, for same-machine ratios.

Usage: python3 bench/scripts/torch_mm.py [threads ...]   (run under the build lock, nothing else running)
Prints one line per (shape, threads): median GFLOP/s over 7 timed repeats of >= 0.3 s each.
"""
import sys, time, statistics
import torch

SQUARE = [256, 512, 1024, 2048]
CONV = [(64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608), (256, 3136, 64)]

def gflops(m, n, k, threads, trans=""):
    torch.set_num_threads(threads)
    a = torch.rand(m, k) * 2 - 1
    b = torch.rand(k, n) * 2 - 1
    if "a" in trans: a = a.t().contiguous().t()
    if "b" in trans: b = b.t().contiguous().t()
    c = torch.empty(m, n)
    for _ in range(3): torch.mm(a, b, out=c)
    t0 = time.perf_counter(); reps = 0
    while time.perf_counter() - t0 < 0.2: torch.mm(a, b, out=c); reps += 1
    per = (time.perf_counter() - t0) / reps
    inner = max(1, int(0.3 / per))
    rates = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(inner): torch.mm(a, b, out=c)
        rates.append(2.0 * m * n * k * inner / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)

threads = [int(x) for x in sys.argv[1:]] or [1, 2]
print("torch", torch.__version__, torch.__config__.show().splitlines()[0] if hasattr(torch, "__config__") else "")
for t in threads:
    for s in SQUARE:
        print(f"nn size={s} threads={t} {gflops(s, s, s, t):.1f} GFLOP/s")
    print(f"nt size=1024 threads={t} {gflops(1024, 1024, 1024, t, 'b'):.1f} GFLOP/s")
    print(f"tn size=1024 threads={t} {gflops(1024, 1024, 1024, t, 'a'):.1f} GFLOP/s")
    for (m, n, k) in CONV:
        print(f"shape={m}x{n}x{k} threads={t} {gflops(m, n, k, t):.1f} GFLOP/s")
