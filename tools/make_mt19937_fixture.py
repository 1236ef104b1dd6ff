#!/usr/bin/python3
"""Generates onnx/src/test/resources/onnx/mt19937-numpy.txt, the fixture of Mt19937Test (tessera-onnx).

numpy's legacy generator as ONNX's Dropout reference uses it (np.random.seed(seed); np.random.uniform(0, 1, shape)):
for each seed, the first DOUBLES draws of RandomState(seed).uniform(0, 1, DOUBLES), which cross two refills of the
624-word state (so they check the seeding, init_genrand, as well as the draws). Needs python3-numpy only;
the build and tests never run it.

    /usr/bin/python3 tools/make_mt19937_fixture.py [OUT_FILE]
"""
import os
import sys

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "onnx", "src", "test", "resources", "onnx",
                                                          "mt19937-numpy.txt")
SEEDS = [0, 1, 42, 5489, 2**31, 2**32 - 1]
DOUBLES = 700

with open(OUT, "w") as f:
    f.write("# numpy %s: 'seed S', then RandomState(S).uniform(0, 1, %d), one value a line (repr, exact).\n"
            "# Made by tools/make_mt19937_fixture.py.\n" % (np.__version__, DOUBLES))
    for seed in SEEDS:
        rs = np.random.RandomState(seed)
        u = rs.uniform(0, 1, DOUBLES)
        assert (u == np.random.RandomState(seed).random_sample(DOUBLES)).all()
        np.random.seed(seed)  # what ONNX's dropout reference calls
        assert (u == np.random.uniform(0, 1.0, DOUBLES)).all()
        f.write("seed %d\n" % seed)
        for v in u:
            f.write(repr(float(v)) + "\n")
print("wrote", OUT)
