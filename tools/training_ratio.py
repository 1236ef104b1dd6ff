#!/usr/bin/env python3
"""Forward + backward / forward of TrainingStepBench.alternating, per measured iteration, from a JMH JSON result
(-rf json -rff FILE): the two pass times are summed per iteration in the same invocations, so their quotient is
measured under the same load. Prints the median ratio, the median times per op and each fork's median ratio."""
import json
import statistics
import sys

for b in json.load(open(sys.argv[1])):
    if not b["benchmark"].endswith(".alternating"):
        continue
    sec = b["secondaryMetrics"]
    fwd, both, ops = sec["forwardNanos"]["rawData"], sec["forwardBackwardNanos"]["rawData"], b["primaryMetric"]["rawData"]
    ratios, fwd_ms, both_ms, forks = [], [], [], []
    for f in range(len(fwd)):
        fr = [bb / ff for ff, bb in zip(fwd[f], both[f])]
        forks.append(statistics.median(fr))
        ratios += fr
        # per iteration: total time / op time = operations; each op is one forward and one forward + backward
        for ff, bb, t in zip(fwd[f], both[f], ops[f]):
            n = (ff + bb) / 1e6 / t  # ms summed / ms per op = ops (approximately)
            fwd_ms.append(ff / 1e6 / n)
            both_ms.append(bb / 1e6 / n)
    print("threads %s: ratio %.2f (median of %d iterations; forks %s), forward %.2f ms, forward + backward %.2f ms"
          % (b["params"]["threads"], statistics.median(ratios), len(ratios), " / ".join("%.2f" % r for r in forks),
             statistics.median(fwd_ms), statistics.median(both_ms)))
