#!/usr/bin/python3
"""Copies the ONNX backend tests that the conformance runner (OnnxBackendConformanceTest) runs into
onnx/src/test/resources/onnx-backend/.

Source: Debian's libonnx-testdata (ONNX 1.12 backend test data, Apache-2.0), folders node, pytorch-converted,
pytorch-operator and simple. A test is copied when every operator of its model is in Tessera's operator table
(parsed from OnnxOps.java) and its directory is at most MAX_BYTES (larger ones are run from the Debian package when
it is installed). Needs python3-onnx. Re-run after adding operators to the table:

    /usr/bin/python3 tools/copy_onnx_backend_tests.py
"""
import glob
import os
import re
import shutil
import sys

import onnx

SRC = "/usr/share/libonnx-testdata/data"
HERE = os.path.dirname(os.path.abspath(__file__))
DST = os.path.join(HERE, "..", "onnx", "src", "test", "resources", "onnx-backend")
OPS = os.path.join(HERE, "..", "onnx", "src", "main", "java", "tessera", "onnx", "OnnxOps.java")
FOLDERS = ["node", "pytorch-converted", "pytorch-operator", "simple"]
MAX_BYTES = 1_000_000


def table():
    return set(re.findall(r'^\s*(?:op|foldable)\("([A-Za-z]+)"', open(OPS).read(), re.M))


def size(d):
    return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)


def main():
    ops = table()
    copied = skipped_big = 0
    for folder in FOLDERS:
        out = os.path.join(DST, folder)
        if os.path.isdir(out):
            shutil.rmtree(out)
        for d in sorted(glob.glob(os.path.join(SRC, folder, "*", ""))):
            m = onnx.load(os.path.join(d, "model.onnx"))
            if not {n.op_type for n in m.graph.node} <= ops:
                continue
            if size(d) > MAX_BYTES:
                skipped_big += 1
                continue
            shutil.copytree(d, os.path.join(out, os.path.basename(d.rstrip("/"))))
            copied += 1
    print(f"copied {copied} tests to {os.path.normpath(DST)}; {skipped_big} larger than {MAX_BYTES} bytes left in {SRC}")


if __name__ == "__main__":
    sys.exit(main())
