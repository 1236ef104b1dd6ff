package tessera.onnx.infer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.kernels.eltwise.Binary;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.onnx.Elementwise;

/**
 * The differentiable graph's elementwise operators, comparisons, Where and ReduceMax: forward values in float64
 * with the scalar semantics of {@link Elementwise}, gradients from its partial derivatives, summed over broadcast
 * dimensions ({@link Shapes#broadcast}). Add/Sub/Mul/Div use the autograd engine's own ops. Comparison results are
 * 0/1 constants in the computation dtype (no gradient flows through a boolean).
 */
final class EltwiseVjp {
    private final DType dtype;

    EltwiseVjp(DType dtype) { this.dtype = dtype; }

    /** A tensor of the computation dtype owned by the current scope. */
    Tensor tensor(int[] shape, double[] values) {
        Tensor t = Scope.alloc(dtype, shape);
        if (dtype == DType.F64) {
            MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_DOUBLE_UNALIGNED, t.offset() * 8, values.length);
        } else {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
            MemorySegment.copy(f, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset() * 4, f.length);
        }
        return t;
    }

    Variable unary(Elementwise op, Variable x) {
        double[] xv = x.value().toDoubleArray(), yv = new double[xv.length];
        for (int i = 0; i < xv.length; i++) yv[i] = op.apply(xv[i]);
        return Ops.custom(op.name().toLowerCase(), tensor(x.shape(), yv), g -> {
            double[] gv = g.toDoubleArray(), dx = new double[gv.length];
            for (int i = 0; i < gv.length; i++) dx[i] = gv[i] * op.derivative(xv[i], yv[i]);
            return new Tensor[] {tensor(x.shape(), dx)};
        }, x);
    }

    Variable binary(Elementwise op, Variable a, Variable b) {
        switch (op) {
            case ADD: return Ops.add(a, b);
            case SUB: return Ops.sub(a, b);
            case MUL: return Ops.mul(a, b);
            case DIV: return Ops.div(a, b);
            default: break;
        }
        int[] os = Shapes.broadcast(a.shape(), b.shape());
        double[] av = a.value().expand(os).toDoubleArray(), bv = b.value().expand(os).toDoubleArray(), yv = new double[av.length];
        for (int i = 0; i < yv.length; i++) yv[i] = op.apply(av[i], bv[i]);
        if (op.comparison()) return Variable.constant(tensor(os, yv));
        return Ops.custom(op.name().toLowerCase(), tensor(os, yv), g -> {
            double[] gv = g.toDoubleArray(), da = new double[gv.length], db = new double[gv.length];
            for (int i = 0; i < gv.length; i++) {
                da[i] = gv[i] * op.partialA(av[i], bv[i], yv[i]);
                db[i] = gv[i] * op.partialB(av[i], bv[i], yv[i]);
            }
            return new Tensor[] {a.requiresGrad() ? reduceTo(os, da, a.shape()) : null, b.requiresGrad() ? reduceTo(os, db, b.shape()) : null};
        }, a, b);
    }

    /** Where(c, x, y): c is a 0/1 (or any nonzero = true) constant. */
    Variable where(Variable c, Variable x, Variable y) {
        int[] os = Shapes.broadcast(Shapes.broadcast(c.shape(), x.shape()), y.shape());
        double[] cv = c.value().expand(os).toDoubleArray(), xv = x.value().expand(os).toDoubleArray(), yv = y.value().expand(os).toDoubleArray();
        double[] out = new double[cv.length];
        for (int i = 0; i < out.length; i++) out[i] = cv[i] != 0 ? xv[i] : yv[i];
        return Ops.custom("where", tensor(os, out), g -> {
            double[] gv = g.toDoubleArray(), gx = new double[gv.length], gy = new double[gv.length];
            for (int i = 0; i < gv.length; i++) {
                if (cv[i] != 0) gx[i] = gv[i];
                else gy[i] = gv[i];
            }
            return new Tensor[] {x.requiresGrad() ? reduceTo(os, gx, x.shape()) : null, y.requiresGrad() ? reduceTo(os, gy, y.shape()) : null};
        }, x, y);
    }

    /** Max over {@code axes} keeping them as size 1; the gradient is shared equally by tied maxima (PyTorch's amax). */
    Variable reduceMax(Variable x, int[] axes) {
        int[] xs = x.shape(), ys = xs.clone();
        for (int a : axes) ys[a] = 1;
        double[] xv = x.value().toDoubleArray();
        int[] map = new int[xv.length];
        long[] yst = Shapes.contiguousStrides(ys);
        int[] idx = new int[xs.length];
        for (int i = 0; i < xv.length; i++) {
            long o = 0;
            for (int d = 0; d < xs.length; d++) if (ys[d] != 1 || xs[d] == 1) o += idx[d] * yst[d];
            map[i] = (int) o;
            for (int d = xs.length - 1; d >= 0; d--) {
                if (++idx[d] < xs[d]) break;
                idx[d] = 0;
            }
        }
        double[] yv = new double[(int) Shapes.numel(ys)];
        Arrays.fill(yv, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < xv.length; i++) yv[map[i]] = Math.max(yv[map[i]], xv[i]);
        int[] count = new int[yv.length];
        for (int i = 0; i < xv.length; i++) if (xv[i] == yv[map[i]]) count[map[i]]++;
        return Ops.custom("reduce_max", tensor(ys, yv), g -> {
            double[] gv = g.toDoubleArray(), dx = new double[xv.length];
            for (int i = 0; i < xv.length; i++) if (xv[i] == yv[map[i]]) dx[i] = gv[map[i]] / count[map[i]];
            return new Tensor[] {tensor(xs, dx)};
        }, x);
    }

    /** Sums a full-shape gradient over the dimensions {@code target} was broadcast along. */
    private Tensor reduceTo(int[] full, double[] grad, int[] target) {
        Tensor g = tensor(full, grad);
        if (Arrays.equals(full, target)) return g;
        Tensor out = Scope.alloc(dtype, target);
        Binary.sumToShape(g, out);
        return out;
    }
}
