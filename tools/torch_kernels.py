"""PyTorch GFLOP/s for the convolution and GEMM rows of `tessera bench kernels --compare-torch`.

Reads one case per line on stdin and prints one GFLOP/s figure per line, in order:
    conv N C H W K R S STRIDE PAD THREADS   conv2d forward with bias, float32 NCHW: the better of PyTorch's default
                                            path and oneDNN with pre-packed weights (torch.utils.mkldnn)
    gemm M N K TRANSA TRANSB THREADS        C = op(A)·op(B), float32 (TRANSx 0 or 1): the better of torch.mm (whatever
                                            BLAS PyTorch was built with; Debian's uses the reference BLAS) and
                                            oneDNN's inner product (a bias-free mkldnn Linear, weights packed once)
Each figure is the median of timed calls over about SECONDS (default 1.0) after 5 warm-up calls; FLOPs are counted
as Tessera counts them (2·N·K·C·R·S·P·Q and 2·M·N·K). PyTorch is never a dependency of Tessera's build or tests."""
import os, statistics, sys, time
import torch, torch.utils.mkldnn

SECONDS = float(os.environ.get("SECONDS_PER_CASE", "1.0"))

def timed(f, x):
    for _ in range(5):
        f(x)
    ts, end = [], time.perf_counter() + SECONDS
    while time.perf_counter() < end or len(ts) < 5:
        t = time.perf_counter(); f(x); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def conv(n, c, h, w, k, r, s, stride, pad):
    conv = torch.nn.Conv2d(c, k, (r, s), stride=stride, padding=pad).eval()
    x = torch.randn(n, c, h, w)
    p, q = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    flops = 2.0 * n * k * c * r * s * p * q
    best = min(timed(conv, x), timed(torch.utils.mkldnn.to_mkldnn(conv), x.to_mkldnn()))
    return flops / best / 1e9

def gemm(m, n, k, ta, tb):
    a = torch.randn(k, m).t() if ta else torch.randn(m, k)
    b = torch.randn(n, k).t() if tb else torch.randn(k, n)
    best = timed(lambda aa: torch.mm(aa, b), a)
    lin = torch.nn.Linear(k, n, bias=False).eval()
    best = min(best, timed(torch.utils.mkldnn.to_mkldnn(lin), torch.randn(m, k).to_mkldnn()))
    return 2.0 * m * n * k / best / 1e9

if __name__ == "__main__":
    with torch.no_grad():
        for line in sys.stdin:
            f = line.split()
            if not f:
                continue
            try:
                v = [int(x) for x in f[1:]]
                torch.set_num_threads(v[-1])
                g = conv(*v[:-1]) if f[0] == "conv" else gemm(*v[:-1])
                print(f"{g:.3f}", flush=True)
            except Exception as e:  # one bad case must not hide the others
                print(f"nan {type(e).__name__}: {e}", flush=True)
