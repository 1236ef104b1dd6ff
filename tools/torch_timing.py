"""Timing shared by the PyTorch reference scripts (torch_resnet18_step.py, torch_small_resnet_step.py)."""
import statistics, time


def median_ms(fn, n, warmup=2):
    """Median wall-clock and process-CPU milliseconds per call of fn over n calls after warmup calls (CPU time is the
    figure to compare under load)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1e3)
        cpu.append((time.process_time() - c) * 1e3)
    return statistics.median(wall), statistics.median(cpu)
