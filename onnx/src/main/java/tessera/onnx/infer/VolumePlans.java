package tessera.onnx.infer;

import java.util.Arrays;
import tessera.kernels.ActivationFn;
import tessera.kernels.eltwise.Activations;
import tessera.kernels.volume.Conv3d;
import tessera.kernels.volume.Conv3dSpec;
import tessera.kernels.volume.ConvTranspose3dSpec;
import tessera.kernels.volume.Pool3d;
import tessera.kernels.volume.Pool3dSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Shape inference and kernel binding of 3-D Conv, ConvTranspose, MaxPool, AveragePool and LpPool: rank-5 NCDHW
 * float32 inputs, constant float32 weights [K, C/group, kD, kH, kW] (ConvTranspose: [C, K/group, kD, kH, kW]) and
 * biases, run by {@link Conv3d} and {@link Pool3d}. A Conv's fused activation and residual are applied after it.
 */
final class VolumePlans {
    private VolumePlans() {}

    private static String out(OnnxNode n) { return n.outputs().get(0); }

    private static int[] spatial(int[] s) { return Arrays.copyOfRange(s, 2, 5); }

    private static Tensor weight(Planner p, OnnxNode n, String layout) {
        Tensor w = p.constTensor(n, 1);
        if (w == null || w.dtype() != DType.F32) throw OpPlans.bad(n, "weight '" + n.input(1) + "' must be a float32 constant");
        if (w.rank() != 5) throw OpPlans.bad(n, "weight '" + n.input(1) + "' has shape " + Planner.str(w.shape()) + ", expected " + layout + " for a rank-5 input");
        return w;
    }

    private static Tensor bias(Planner p, OnnxNode n, int count) {
        if (!n.hasInput(2)) return null;
        Tensor b = p.constTensor(n, 2);
        if (b == null || b.dtype() != DType.F32) throw OpPlans.bad(n, "bias '" + n.input(2) + "' must be a float32 constant");
        if (b.numel() != count) throw OpPlans.bad(n, "bias '" + n.input(2) + "' has " + b.numel() + " elements, expected " + count);
        return b.reshape(count);
    }

    private static void kernelMatches(OnnxNode n, OpArgs.Window win, int[] k, int[] ws) {
        if (win.kernel() != null && !Arrays.equals(win.kernel(), k)) {
            throw OpPlans.bad(n, "kernel_shape " + Arrays.toString(win.kernel()) + " differs from the weight shape " + Planner.str(ws));
        }
    }

    /** The Conv node's 3-D spec for input shape xs [N, C, D, H, W] and weight shape ws [K, C/group, kD, kH, kW] (also used by vjp). */
    static Conv3dSpec convSpec(OnnxNode n, int[] xs, int[] ws) {
        if (ws.length != 5) throw OpPlans.bad(n, "weight '" + n.input(1) + "' has shape " + Planner.str(ws) + ", expected [K, C/group, kD, kH, kW] for a rank-5 input");
        int[] k = spatial(ws), in = spatial(xs);
        OpArgs.Conv a = n.args(OpArgs.Conv.class);
        OpArgs.Window win = a.window().forRank(3);
        kernelMatches(n, win, k, ws);
        if (ws[1] * a.group() != xs[1]) {
            throw OpPlans.bad(n, "input has " + xs[1] + " channels but weight " + Planner.str(ws) + " with group=" + a.group() + " expects " + ws[1] * a.group());
        }
        return new Conv3dSpec(xs[0], xs[1], ws[0], a.group(), in, k, win.strides(), win.pads(in, k), win.dilations());
    }

    /** The ConvTranspose node's 3-D spec for input shape xs [N, C, D, H, W] and weight shape ws [C, K/group, kD, kH, kW] (also used by vjp). */
    static ConvTranspose3dSpec convTransposeSpec(OnnxNode n, int[] xs, int[] ws) {
        if (ws.length != 5) throw OpPlans.bad(n, "weight '" + n.input(1) + "' has shape " + Planner.str(ws) + ", expected [C, K/group, kD, kH, kW] for a rank-5 input");
        int[] k = spatial(ws), in = spatial(xs);
        OpArgs.ConvTranspose a = n.args(OpArgs.ConvTranspose.class).forRank(3);
        OpArgs.Window win = a.window();
        kernelMatches(n, win, k, ws);
        if (ws[0] != xs[1]) throw OpPlans.bad(n, "input has " + xs[1] + " channels, weight " + Planner.str(ws) + " expects " + ws[0]);
        if (xs[1] % a.group() != 0) throw OpPlans.bad(n, "input channels " + xs[1] + " are not divisible by group=" + a.group());
        OpArgs.ConvTranspose.Resolved r = a.resolve(in, k);
        return new ConvTranspose3dSpec(xs[0], xs[1], ws[1] * a.group(), a.group(), in, k, win.strides(), r.pads(), r.outputPadding(), win.dilations());
    }

    /** The pooling node's 3-D spec for input shape xs [N, C, D, H, W], checked against it (also used by vjp). */
    static Pool3dSpec poolSpec(OnnxNode n, int[] xs) {
        Pool3dSpec spec = n.args(OpArgs.Pool.class).spec3d(spatial(xs));
        spec.validate(spatial(xs));
        return spec;
    }

    static void conv(Planner p, OnnxNode n) {
        OpPlans.requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        Tensor w = weight(p, n, "[K, C/group, kD, kH, kW]");
        int[] ws = w.shape();
        OpArgs.Conv a = n.args(OpArgs.Conv.class);
        Conv3dSpec spec = convSpec(n, xs, ws);
        int[] ys = {xs[0], ws[0], spec.out(0), spec.out(1), spec.out(2)};
        Tensor b = bias(p, n, ws[0]);
        ActivationFn act = a.fused().fn();
        int x = p.in(n, 0);
        int res = n.hasInput(3) ? p.in(n, 3) : -1;
        String convOut = res < 0 ? out(n) : out(n) + "#conv";
        int y = p.dynamic(convOut, ys, DType.F32);
        boolean actHere = res < 0 && !act.isIdentity();
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> {
                Conv3d.forward(spec, tx, w, b, ty);
                if (actHere) Activations.forward(act, ty, ty);
            };
        });
        p.algorithm("vol2col+gemm");
        if (res < 0) return;
        // an optimizer-fused residual (and activation): add, then activate
        int sum = OpPlans.add(p, n, y, res, act.isIdentity() ? out(n) : out(n) + "#sum");
        if (act.isIdentity()) return;
        int z = p.dynamic(out(n), p.val(sum).shape, DType.F32);
        p.step(n.name(), new int[] {sum}, new int[] {z}, v -> {
            Tensor ts = v[sum], tz = v[z];
            return () -> Activations.forward(act, ts, tz);
        });
    }

    static void convTranspose(Planner p, OnnxNode n) {
        OpPlans.requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        Tensor w = weight(p, n, "[C, K/group, kD, kH, kW]");
        ConvTranspose3dSpec spec = convTransposeSpec(n, xs, w.shape());
        Tensor b = bias(p, n, spec.outChannels());
        int x = p.in(n, 0), y = p.dynamic(out(n), new int[] {xs[0], spec.outChannels(), spec.out(0), spec.out(1), spec.out(2)}, DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> Conv3d.transposeForward(spec, tx, w, b, ty);
        });
        p.algorithm("gemm+col2vol");
    }

    static void pool(Planner p, OnnxNode n) {
        OpPlans.requireF32(p, n, 0);
        int[] xs = p.shape(n, 0), in = spatial(xs);
        OpArgs.Pool a = n.args(OpArgs.Pool.class);
        if (a.withIndices() && a.columnMajor()) {
            throw OpPlans.bad(n, "attribute 'storage_order' = 1 (column-major indices) is supported for 2-D MaxPool only, not 3-D");
        }
        Pool3dSpec spec = poolSpec(n, xs);
        int[] o = spec.out(in), ys = {xs[0], xs[1], o[0], o[1], o[2]};
        int x = p.in(n, 0), y = p.dynamic(out(n), ys, DType.F32);
        if (!a.withIndices()) {
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                Tensor tx = v[x], ty = v[y];
                return () -> Pool3d.forward(spec, tx, ty, null);
            });
            return;
        }
        int idx = p.dynamic(n.outputs().get(1), ys, DType.I64);
        long volume = (long) in[0] * in[1] * in[2];
        p.step(n.name(), new int[] {x}, new int[] {y, idx}, v -> {
            Tensor tx = v[x], ty = v[y], ti = v[idx];
            return () -> {
                Pool3d.forward(spec, tx, ty, ti);
                DataOps.planeToFlatIndices(ti, volume, 0, in[2]);
            };
        });
    }
}
