#!/usr/bin/python3
"""Generates the VJP parity fixtures of tessera-onnx (onnx/src/test/resources/onnx/vjp/).

For each model (random weights, eval mode): <name>.onnx, <name>.input.npy, <name>.grad_output.npy (random GY),
and PyTorch's gradients of sum(Y * GY) in <name>.grad/: input.npy and <initializer-name>.npy for every float
initializer ('/', '\\' and ':' replaced by '_', as `tessera vjp` does). Gradients are computed in float64 and saved
as float32. Batch-norm running statistics get their gradients too: in eval mode y = (x - mean) * w / sqrt(var + eps)
+ b, so each BatchNorm2d is evaluated with that formula on leaf tensors that require grad (PyTorch does not
differentiate its buffers otherwise).

The export keeps the graph un-folded (do_constant_folding=False, TrainingMode.PRESERVE on an eval model: no
batch-norm folding into conv weights) and the script checks that every float initializer equals the state-dict entry
of the same name, so gradients are compared by initializer name.

    /usr/bin/python3 tools/make_vjp_fixtures.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_onnx_fixtures as mf  # noqa: E402  (model classes and randomize())

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "onnx", "src", "test", "resources", "onnx", "vjp")


def safe(name):
    return name.replace("/", "_").replace("\\", "_").replace(":", "_")


def bn_eval_formula(m, x):
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return (x - m.running_mean.view(shape)) * (m.weight / torch.sqrt(m.running_var + m.eps)).view(shape) + m.bias.view(shape)


def make(name, model, shape, seed, opset=13):
    torch.manual_seed(seed)
    model = mf.randomize(model, seed)
    x = torch.randn(*shape)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], opset_version=opset,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    # float64 copy whose batch norms use the eval formula on differentiable running statistics
    m64 = model.double().eval()
    for mod in m64.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean = mod.running_mean.clone().requires_grad_(True)
            mod.running_var = mod.running_var.clone().requires_grad_(True)
            mod.forward = (lambda mm: (lambda t: bn_eval_formula(mm, t)))(mod)
    tensors = dict(m64.named_parameters())
    tensors.update({k: v for k, v in m64.named_buffers() if v.dtype.is_floating_point})
    x64 = x.double().requires_grad_(True)
    y = m64(x64)
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed + 100)).double()  # float32-exact
    (y * gy).sum().backward()

    onnx_model = onnx.load(path)
    gdir = os.path.join(OUT, name + ".grad")
    os.makedirs(gdir, exist_ok=True)
    for f in os.listdir(gdir):
        os.remove(os.path.join(gdir, f))
    np.save(os.path.join(gdir, "input.npy"), x64.grad.numpy().astype(np.float32))
    count = 0
    for init in onnx_model.graph.initializer:
        arr = onnx.numpy_helper.to_array(init)
        if arr.dtype.kind != "f":
            continue
        if init.name not in tensors:
            raise SystemExit(f"{name}: float initializer '{init.name}' has no PyTorch parameter/buffer of that name")
        t = tensors[init.name]
        if not np.allclose(arr.astype(np.float64), t.detach().numpy(), rtol=0, atol=1e-6):
            raise SystemExit(f"{name}: initializer '{init.name}' differs from the PyTorch tensor of that name")
        grad = t.grad if t.grad is not None else torch.zeros_like(t)
        np.save(os.path.join(gdir, safe(init.name) + ".npy"), grad.numpy().astype(np.float32))
        count += 1
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".grad_output.npy"), gy.numpy().astype(np.float32))
    print(f"{name}: {tuple(shape)} -> {tuple(y.shape)}, {count} float initializers, {os.path.getsize(path)} bytes")


def convtranspose_output_shape(name="op_convtranspose_output_shape"):
    """The helper-built ConvTranspose(output_shape) model of make_onnx_fixtures, differentiated by PyTorch in float64."""
    mf.OUT = OUT
    _, x, w, b, reference = mf.convtranspose_output_shape(name)
    x64, w64, b64 = (t.double().requires_grad_(True) for t in (x, w, b))
    y = reference(x64, w64, b64)
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(107)).double()
    (y * gy).sum().backward()
    gdir = os.path.join(OUT, name + ".grad")
    os.makedirs(gdir, exist_ok=True)
    np.save(os.path.join(gdir, "input.npy"), x64.grad.numpy().astype(np.float32))
    np.save(os.path.join(gdir, "W.npy"), w64.grad.numpy().astype(np.float32))
    np.save(os.path.join(gdir, "B.npy"), b64.grad.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".grad_output.npy"), gy.numpy().astype(np.float32))
    print(name + ": vjp fixture written")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make("lenet5", mf.LeNet5(), (2, 1, 28, 28), seed=11)
    make("resnet_tiny", mf.ResNetTiny(), (2, 3, 32, 32), seed=12)
    make("inception_tiny", mf.InceptionTiny(), (2, 3, 32, 32), seed=13)
    make("se_block", mf.SEBlock(), (2, 3, 16, 16), seed=15)
    make("fcn_tiny", mf.FCN(), (2, 3, 24, 24), seed=16)
    make("op_unary", mf.Unary(), (2, 3, 4, 4), seed=21)
    make("op_binary", mf.Binary(), (2, 3, 4, 4), seed=22)
    make("op_reduce", mf.Reduce(), (2, 3, 4, 5), seed=23)
    make("op_gelu", nn.GELU(), (2, 3, 4, 4), seed=24)
    make("op_l2norm", mf.L2Normalize(), (2, 4, 3, 3), seed=25)
    make("op_lppool2d", nn.LPPool2d(2, 2, stride=2), (2, 3, 6, 7), seed=26)
    convtranspose_output_shape()
    make("op_newops", mf.NewOps(), (2, 8, 4, 6), seed=27)
    make("lraspp_tiny", mf.LRASPPTiny(), (1, 3, 64, 64), seed=28)
    make("convnext_block", mf.ConvNeXtBlock(), (2, 16, 8, 8), seed=29, opset=17)
