#!/usr/bin/python3
"""Generates the ONNX parity fixtures of tessera-onnx (onnx/src/test/resources/onnx/).

For each case: <name>.onnx (random weights, fixed seed), <name>.input.npy (float32) and <name>.output.npy (float32,
PyTorch eval-mode output). Needs Debian's python3-torch (1.13) and python3-onnx; the build and tests never do.

    /usr/bin/python3 tools/make_onnx_fixtures.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "onnx", "src", "test", "resources", "onnx")


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model.eval()


def export(name, model, shape, opset=13, seed=0, dynamic_batch=True, keep_bn=False):
    """keep_bn: export BatchNormalization nodes as they are (PyTorch folds them into Conv in eval export otherwise)."""
    torch.manual_seed(seed)
    model = randomize(model, seed)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], opset_version=opset,
                      dynamic_axes=axes, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy().astype(np.float32))
    print(f"{name}: {tuple(shape)} -> {tuple(y.shape)}, {os.path.getsize(path)} bytes")


class Lambda(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


# ---------------------------------------------------------------- single operators

def single_ops():
    export("op_conv_group_dilation", nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 9, 11))
    export("op_conv_asym", nn.Sequential(nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(3, 5, (3, 2), stride=(1, 2), bias=False)), (1, 3, 8, 7))
    export("op_conv_depthwise", nn.Conv2d(8, 8, 3, padding=1, groups=8), (2, 8, 6, 6))
    export("op_convtranspose", nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5))
    export("op_convtranspose_group", nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), groups=2, dilation=(1, 2)), (1, 4, 4, 5))
    export("op_maxpool_ceil", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10, 9))
    export("op_maxpool_dilation", nn.MaxPool2d(2, stride=1, dilation=2), (1, 2, 7, 7))
    export("op_avgpool_pad_exclude", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 8))
    export("op_avgpool_ceil_include", nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=True), (1, 3, 7, 7))
    export("op_global_pools", Lambda(lambda x: torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], 1)), (2, 5, 6, 7))
    export("op_batchnorm", nn.BatchNorm2d(5), (2, 5, 4, 4))
    export("op_activations", Lambda(lambda x: torch.cat([F.relu(x), F.leaky_relu(x, 0.2), F.elu(x, 0.7), F.selu(x), torch.sigmoid(x),
                                                        F.hardsigmoid(x), F.hardswish(x), torch.tanh(x), F.softplus(x),
                                                        F.relu6(x), torch.clamp(x, -0.5, 0.25)], 1)), (2, 3, 4, 4), opset=14)
    export("op_mish_decomposed", nn.Mish(), (2, 3, 4, 4), opset=17)
    export("op_prelu", nn.PReLU(4, init=0.1), (2, 4, 3, 3))
    export("op_softmax", Lambda(lambda x: torch.cat([F.softmax(x, 1), F.log_softmax(x, -1)], 1)), (3, 7))
    export("op_softmax_opset11", Lambda(lambda x: F.softmax(x, 1)), (3, 7), opset=11)
    export("op_gemm", nn.Sequential(nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 5, bias=False)), (3, 12))
    export("op_matmul", Lambda(lambda x: torch.matmul(x, torch.linspace(-1, 1, 30).reshape(5, 6))), (2, 3, 4, 5))
    export("op_arith", Lambda(lambda x: ((x + 1.5) * x - x / 3.0) - torch.ones(1, 3, 1, 1) * 0.5), (2, 3, 4, 4))
    export("op_reshape_chain", Lambda(lambda x: x.view(x.size(0), -1).unsqueeze(1).squeeze(1).flatten(1)), (2, 3, 4, 4))
    export("op_transpose_slice", Lambda(lambda x: x.permute(0, 2, 3, 1)[:, 1:3, ::2, :].contiguous()), (2, 3, 5, 6))
    export("op_pad", Lambda(lambda x: torch.cat([F.pad(x, (1, 2, 0, 1), value=0.5), F.pad(x, (1, 2, 0, 1), mode="reflect"),
                                                 F.pad(x, (1, 2, 0, 1), mode="replicate")], 1)), (1, 2, 4, 5), opset=13)
    export("op_reduce_mean", Lambda(lambda x: x.mean(dim=(2, 3), keepdim=True) + x.mean(dim=1, keepdim=True)), (2, 3, 4, 5))
    export("op_concat_gather", Lambda(lambda x: torch.cat([x[:, 1], x[:, 0]], 1)), (2, 3, 4, 5))

    maxunpool()
    helper_op("op_lrn", "LRN", (2, 6, 5, 5), lambda x: F.local_response_norm(x, 3, alpha=1e-3, beta=0.75, k=2.0),
              size=3, alpha=1e-3, beta=0.75, bias=2.0)
    helper_op("op_lppool", "LpPool", (1, 3, 8, 8), lambda x: F.lp_pool2d(x, 2, 2, stride=2), kernel_shape=[2, 2], strides=[2, 2], p=2)


def helper_op(name, op, shape, reference, **attrs):
    """One ONNX node built with onnx.helper (for ops PyTorch exports as decompositions); expected output from PyTorch."""
    import onnx
    from onnx import TensorProto, helper
    torch.manual_seed(0)
    x = torch.randn(*shape)
    y = reference(x)
    node = helper.make_node(op, ["input"], ["output"], name=name, **attrs)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch"] + list(shape[1:]))],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch"] + list(y.shape[1:]))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy())
    print(name + " written")


def maxunpool():
    """PyTorch cannot export MaxUnpool: build MaxPool(indices) -> MaxUnpool with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 6)
    y, i = F.max_pool2d(x, 2, 2, return_indices=True)
    out = F.max_unpool2d(y, i, 2, 2, output_size=x.shape[2:])
    nodes = [helper.make_node("MaxPool", ["input"], ["pooled", "indices"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("MaxUnpool", ["pooled", "indices"], ["output"], name="unpool", kernel_shape=[2, 2], strides=[2, 2])]
    graph = helper.make_graph(nodes, "maxunpool", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2, 6, 6])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 2, 6, 6])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, "op_maxunpool.onnx"))
    np.save(os.path.join(OUT, "op_maxunpool.input.npy"), x.numpy())
    np.save(os.path.join(OUT, "op_maxunpool.output.npy"), out.numpy())
    print("op_maxunpool written")


# ---------------------------------------------------------------- operators exporters emit around the CNN core

class Unary(nn.Module):
    """Neg, Sign, Sqrt, Exp, Log, Reciprocal, Erf, Abs and Pow (scalar and tensor exponent) on a positive shift of x."""

    def forward(self, x):
        a = x.abs() + 0.5
        return torch.cat([torch.neg(x), torch.sign(x), torch.sqrt(a), torch.exp(x), torch.log(a), torch.reciprocal(a),
                          torch.erf(x), torch.pow(a, 1.7), torch.pow(a, x)], 1)


class Binary(nn.Module):
    """Min, Max, Where, Greater, Less, Equal (+ Cast to float) and Pow against a per-channel parameter."""

    def __init__(self, c=3):
        super().__init__()
        self.c = nn.Parameter(torch.linspace(-0.45, 0.55, c).reshape(1, c, 1, 1))
        self.e = nn.Parameter(torch.linspace(1.3, 2.2, c).reshape(1, c, 1, 1))

    def forward(self, x):
        return torch.cat([torch.minimum(x, self.c), torch.maximum(x, self.c), torch.where(x > self.c, x, self.c * 2.0),
                          torch.where(x < -0.2, x * 3.0, x), (torch.sign(x) == 1).float() * self.c, torch.pow(x.abs() + 0.5, self.e)], 1)


class Reduce(nn.Module):
    """ReduceSum and ReduceMax with and without keepdims."""

    def forward(self, x):
        return x.sum(dim=(2, 3), keepdim=True) * x.amax(dim=1, keepdim=True) + x.sum(dim=1).unsqueeze(1) - x.amax(dim=(1, 3)).unsqueeze(1).unsqueeze(3)


class L2Normalize(nn.Module):
    """L2 normalization over channels through Pow, ReduceSum, Sqrt, Clip and Div (F.normalize exports ReduceL2/Expand instead)."""

    def forward(self, x):
        return x / x.pow(2).sum(1, keepdim=True).sqrt().clamp_min(1e-12)


def exporter_ops():
    export("op_unary", Unary(), (2, 3, 4, 4))
    export("op_binary", Binary(), (2, 3, 4, 4))
    export("op_reduce", Reduce(), (2, 3, 4, 5))
    export("op_gelu", nn.GELU(), (2, 3, 4, 4))
    export("op_l2norm", L2Normalize(), (2, 4, 3, 3))
    export("op_lppool2d", nn.LPPool2d(2, 2, stride=2), (2, 3, 6, 7))
    convtranspose_output_shape()


def convtranspose_output_shape(name="op_convtranspose_output_shape"):
    """ConvTranspose with output_shape and auto_pad NOTSET whose total padding is odd (PyTorch never emits output_shape).

    ONNX: total = stride*(in-1) + output_padding + (k-1)*dilation + 1 - output_shape; NOTSET puts total - total//2 at
    the start. Reference: PyTorch conv_transpose2d without padding, cropped [start : start + output_shape]. Returns
    (model path, input, weight, bias, reference function) for the VJP fixture."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    torch.manual_seed(7)
    x = torch.randn(2, 4, 4, 5)
    w = torch.randn(4, 3, 3, 3) * 0.3
    b = torch.randn(3) * 0.1
    out_hw = (8, 10)  # totals: 2*3+3-8 = 1 and 2*4+3-10 = 1

    def reference(x, w, b):
        full = F.conv_transpose2d(x, w, b, stride=2)
        top, left = 1 - 1 // 2, 1 - 1 // 2
        return full[:, :, top:top + out_hw[0], left:left + out_hw[1]]

    y = reference(x, w, b)
    node = helper.make_node("ConvTranspose", ["input", "W", "B"], ["output"], name="up", kernel_shape=[3, 3], strides=[2, 2],
                            output_shape=list(out_hw))
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4, 4, 5])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3] + list(out_hw))],
                              initializer=[numpy_helper.from_array(w.numpy(), "W"), numpy_helper.from_array(b.numpy(), "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(model, path)
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy())
    print(name + " written")
    return path, x, w, b, reference


# ---------------------------------------------------------------- whole models

class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(F.relu(self.c3(x)), 2)
        x = x.view(x.size(0), -1)
        return self.out(F.relu(self.f6(F.relu(self.f5(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + idt)


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Inception(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(cin, 6, 1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 5, padding=2), nn.ReLU())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 4, 1), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class InceptionTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU())
        self.i1 = Inception(16)
        self.i2 = Inception(24)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.i2(F.max_pool2d(self.i1(self.stem(x)), 2, ceil_mode=True))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.body(x) if self.use_res else self.body(x)


class MobileNetV2Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
            InvertedResidual(16, 16, 1, 1), InvertedResidual(16, 24, 2, 4), InvertedResidual(24, 24, 1, 4),
            nn.Conv2d(24, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6())
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.mean([2, 3]))


class SEBlock(nn.Module):
    def __init__(self, c=16, r=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        x = self.conv(x)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))
        return x * s


class FCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1))
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.enc3 = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ELU())
        self.up1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.head = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d1 = F.relu(self.up1(self.enc3(e2))) + e2
        d2 = F.relu(self.up2(d1)) + e1
        return self.head(d2)


class NewOps(nn.Module):
    """pixel_shuffle/unshuffle (DepthToSpace CRD / SpaceToDepth), InstanceNorm2d, split (Split), expand, repeat (Tile)."""
    def __init__(self, c=8):
        super().__init__()
        self.inorm = nn.InstanceNorm2d(c, affine=True)
        g = torch.Generator().manual_seed(31)
        with torch.no_grad():
            self.inorm.weight.copy_(torch.rand(c, generator=g) + 0.5)
            self.inorm.bias.copy_(torch.randn(c, generator=g) * 0.2)

    def forward(self, x):
        a = F.pixel_shuffle(x, 2)
        b = F.pixel_unshuffle(torch.tanh(a), 2)
        p, q = torch.split(x, [3, 5], dim=1)
        e = x[:, :1].expand(-1, 4, -1, -1)
        t = x[:, 6:].repeat(1, 2, 1, 1)
        return torch.cat([b * self.inorm(x), torch.cat([q, p * 2], 1), e, t], 1)


class LRASPPTiny(nn.Module):
    """torchvision's LR-ASPP head (1x1 conv-BN-ReLU, global-pool sigmoid gate, bilinear Resize to the low branch's size)
    on a compact MobileNetV3-like backbone (hardswish, depthwise, SE-free), and a final bilinear Resize to the input."""
    def __init__(self, classes=4):
        super().__init__()
        from torchvision.models.segmentation.lraspp import LRASPPHead
        self.low = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish(),
                                 nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.high = nn.Sequential(nn.Conv2d(8, 24, 1, bias=False), nn.BatchNorm2d(24), nn.Hardswish(),
                                  nn.Conv2d(24, 24, 3, 2, 1, groups=24, bias=False), nn.BatchNorm2d(24), nn.Hardswish(),
                                  nn.Conv2d(24, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.Hardswish())
        self.head = LRASPPHead(8, 32, classes, 16)

    def forward(self, x):
        low = self.low(x)
        out = self.head({"low": low, "high": self.high(low)})
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


class ConvNeXtBlock(nn.Module):
    """torchvision's ConvNeXt block (CNBlock: depthwise 7x7, LayerNorm over channels via permute, Linear 4x, GELU, Linear,
    layer scale, residual) with a random layer scale so the branch matters."""
    def __init__(self, dim=16):
        super().__init__()
        from torchvision.models.convnext import CNBlock
        self.block = CNBlock(dim, layer_scale=0.5, stochastic_depth_prob=0.0)
        g = torch.Generator().manual_seed(32)
        with torch.no_grad():
            self.block.layer_scale.copy_(torch.rand(self.block.layer_scale.shape, generator=g) + 0.25)
            for m in self.block.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)

    def forward(self, x):
        return self.block(x)


def models():
    export("lenet5", LeNet5(), (2, 1, 28, 28), seed=1)
    export("resnet_tiny", ResNetTiny(), (2, 3, 32, 32), seed=2, keep_bn=True)
    export("inception_tiny", InceptionTiny(), (2, 3, 32, 32), seed=3)
    export("mobilenetv2_tiny", MobileNetV2Tiny(), (2, 3, 32, 32), seed=4, keep_bn=True)
    export("se_block", SEBlock(), (2, 3, 16, 16), seed=5)
    export("fcn_tiny", FCN(), (2, 3, 24, 24), seed=6)
    export("op_newops", NewOps(), (2, 8, 4, 6), seed=7)
    export("lraspp_tiny", LRASPPTiny(), (1, 3, 64, 64), seed=8, keep_bn=True)
    export("convnext_block", ConvNeXtBlock(), (2, 16, 8, 8), seed=9, opset=17)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    single_ops()
    exporter_ops()
    models()
