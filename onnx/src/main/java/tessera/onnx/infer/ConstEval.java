package tessera.onnx.infer;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import tessera.memory.DType;
import tessera.memory.Elements;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.onnx.Elementwise;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OnnxOps;
import tessera.onnx.OpArgs;

/**
 * Load-time evaluation of operators whose inputs are all known (those {@link OnnxOps} marks as folding): the Shape →
 * Gather → Unsqueeze → Concat chains that exporters put before Reshape and Flatten, and arithmetic, comparisons and
 * Where on constant tensors. Plain loops on doubles with the scalar semantics of {@link Elementwise}; only used for
 * tensors up to {@link #MAX_ELEMENTS} elements.
 */
final class ConstEval {
    static final long MAX_ELEMENTS = 1L << 22;

    static final Set<String> FOLDABLE = OnnxOps.foldable();

    private ConstEval() {}

    /** Evaluates {@code n} on constant inputs ({@code in.get(k)} null for an omitted optional input). */
    static CVal eval(OnnxNode n, List<CVal> in) {
        try {
            return switch (n.args()) {
                case OpArgs.ShapeRange r -> {
                    int rank = in.get(0).rank();
                    int start = (int) clampAxis(r.start(), rank), end = (int) clampAxis(r.end() == null ? rank : r.end(), rank);
                    long[] s = new long[Math.max(0, end - start)];
                    for (int i = 0; i < s.length; i++) s[i] = in.get(0).shape()[start + i];
                    yield CVal.longs(s);
                }
                case OpArgs.Cast c -> cast(in.get(0), c.to(), c.bool());
                case OpArgs.Reshape r -> {
                    CVal x = in.get(0);
                    yield new CVal(x.dtype(), ShapeMath.reshape(x.shape(), in.get(1).toLongs(), n.args(OpArgs.Reshape.class).allowZero()), x.data());
                }
                case OpArgs.Axis a when n.opType().equals("Flatten") -> {
                    CVal x = in.get(0);
                    int ax = (int) clampAxis(a.axis(), x.rank());
                    yield new CVal(x.dtype(), new int[] {(int) ShapeMath.prod(x.shape(), 0, ax), (int) ShapeMath.prod(x.shape(), ax, x.rank())}, x.data());
                }
                case OpArgs.Axis a when n.opType().equals("Gather") -> gather(in.get(0), in.get(1), a.axis());
                case OpArgs.Axis a -> concat(in, a.axis());
                case OpArgs.Transpose t -> transpose(in.get(0), t.perm(in.get(0).rank()));
                case OpArgs.Eltwise e -> elementwise(e.op(), in);
                case OpArgs.Where w -> where(in.get(0), in.get(1), in.get(2));
                case OpArgs.ConstantOfShape c -> constantOfShape(in.get(0).toLongs(), c.value());
                case OpArgs.Dropout d -> {
                    if (TrainingDropout.ratio(n, k -> k < in.size() ? in.get(k) : null) > 0) {
                        throw new IllegalStateException("training-mode Dropout is not folded (the planner and vjp draw its mask)");
                    }
                    yield in.get(0); // inference: the identity
                }
                case OpArgs.None none -> switch (n.opType()) {
                    case "Identity" -> in.get(0);
                    case "Squeeze" -> {
                        CVal x = in.get(0);
                        yield new CVal(x.dtype(), ShapeMath.squeeze(x.shape(), in.size() > 1 && in.get(1) != null ? in.get(1).toLongs() : null), x.data());
                    }
                    case "Unsqueeze" -> new CVal(in.get(0).dtype(), ShapeMath.unsqueeze(in.get(0).shape(), in.get(1).toLongs()), in.get(0).data());
                    case "Slice" -> slice(in);
                    case "Clip" -> clip(in);
                    default -> throw new IllegalStateException("not foldable: " + n.opType());
                };
                default -> throw new IllegalStateException("not foldable: " + n.opType());
            };
        } catch (OnnxFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new OnnxFormatException(n.describe() + ": " + e.getMessage(), e);
        }
    }

    /** Clip(x, min, max) = min(max(x, min), max) with omitted bounds unbounded; each bound one value of x's type. */
    private static CVal clip(List<CVal> in) {
        CVal x = in.get(0);
        double lo = Double.NEGATIVE_INFINITY, hi = Double.POSITIVE_INFINITY;
        for (int k = 1; k < in.size(); k++) {
            CVal b = in.get(k);
            if (b == null) continue;
            if (b.numel() != 1) throw new IllegalArgumentException("Clip bound input " + k + " has shape " + Arrays.toString(b.shape()) + ", expected one value");
            if (b.dtype() != x.dtype()) throw new IllegalArgumentException("Clip bound input " + k + " is " + b.dtype() + ", expected " + x.dtype() + " like the input");
            if (k == 1) lo = b.data()[0];
            else hi = b.data()[0];
        }
        double[] out = new double[x.numel()];
        for (int i = 0; i < out.length; i++) {
            double v = x.data()[i];
            out[i] = Double.isNaN(v) ? v : Math.min(Math.max(v, lo), hi);
        }
        return new CVal(x.dtype(), x.shape(), out);
    }

    private static CVal constantOfShape(long[] shape, Tensor value) {
        int[] s = new int[shape.length];
        long total = 1;
        for (int i = 0; i < s.length; i++) {
            if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has an invalid dimension");
            s[i] = (int) shape[i];
            total *= s[i];
            if (total > MAX_ELEMENTS) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for a constant");
        }
        DType dt = value == null ? DType.F32 : value.dtype();
        double v = value == null ? 0 : value.toDoubleArray()[0];
        double[] d = new double[(int) total];
        Arrays.fill(d, v);
        return new CVal(dt, s, d);
    }

    private static long clampAxis(long a, int r) {
        if (a < 0) a += r;
        return Math.max(0, Math.min(a, r));
    }

    /** ONNX Cast: to bool nonzero → 1; to other types rounded (floats) or truncated and wrapped (integers) as {@link Elements} does. */
    static CVal cast(CVal x, DType dt, boolean bool) {
        double[] d = x.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = bool ? (d[i] != 0 ? 1 : 0) : Elements.round(dt, d[i]);
        return new CVal(dt, x.shape(), d);
    }

    private static CVal gather(CVal x, CVal idx, long axisAttr) {
        int ax = ShapeMath.axis(axisAttr, x.rank(), "Gather");
        int[] xs = x.shape();
        int outer = (int) ShapeMath.prod(xs, 0, ax), inner = (int) ShapeMath.prod(xs, ax + 1, xs.length), dim = xs[ax];
        int[] os = new int[xs.length - 1 + idx.rank()];
        System.arraycopy(xs, 0, os, 0, ax);
        System.arraycopy(idx.shape(), 0, os, ax, idx.rank());
        System.arraycopy(xs, ax + 1, os, ax + idx.rank(), xs.length - ax - 1);
        double[] out = new double[(int) ShapeMath.numel(os)];
        int ni = idx.numel(), p = 0;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < ni; j++) {
                long k = (long) idx.data()[j];
                if (k < 0) k += dim;
                if (k < 0 || k >= dim) throw new IllegalArgumentException("Gather index " + (long) idx.data()[j] + " is out of range for axis size " + dim);
                System.arraycopy(x.data(), (int) ((o * (long) dim + k) * inner), out, p, inner);
                p += inner;
            }
        }
        return new CVal(x.dtype(), os, out);
    }

    private static CVal concat(List<CVal> in, long axisAttr) {
        CVal first = in.get(0);
        int ax = ShapeMath.axis(axisAttr, first.rank(), "Concat");
        int[] os = first.shape().clone();
        os[ax] = 0;
        for (CVal c : in) {
            if (c.rank() != first.rank()) throw new IllegalArgumentException("Concat inputs have ranks " + first.rank() + " and " + c.rank());
            for (int d = 0; d < os.length; d++) {
                if (d != ax && c.shape()[d] != first.shape()[d]) {
                    throw new IllegalArgumentException("Concat inputs have shapes " + Arrays.toString(first.shape()) + " and " + Arrays.toString(c.shape()));
                }
            }
            os[ax] += c.shape()[ax];
        }
        int outer = (int) ShapeMath.prod(os, 0, ax), inner = (int) ShapeMath.prod(os, ax + 1, os.length);
        double[] out = new double[(int) ShapeMath.numel(os)];
        int p = 0;
        for (int o = 0; o < outer; o++) {
            for (CVal c : in) {
                int len = c.shape()[ax] * inner;
                System.arraycopy(c.data(), o * len, out, p, len);
                p += len;
            }
        }
        return new CVal(first.dtype(), os, out);
    }

    private static CVal slice(List<CVal> in) {
        CVal x = in.get(0);
        ShapeMath.SliceRange s = ShapeMath.slice(x.shape(), in.get(1).toLongs(), in.get(2).toLongs(),
                in.size() > 3 && in.get(3) != null ? in.get(3).toLongs() : null, in.size() > 4 && in.get(4) != null ? in.get(4).toLongs() : null);
        int[] os = s.shape();
        double[] out = new double[(int) ShapeMath.numel(os)];
        int[] idx = new int[os.length];
        long[] xst = Shapes.contiguousStrides(x.shape());
        for (int i = 0; i < out.length; i++) {
            long off = 0;
            for (int d = 0; d < os.length; d++) off += (long) (s.starts()[d] + idx[d] * s.steps()[d]) * xst[d];
            out[i] = x.data()[(int) off];
            for (int d = os.length - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(x.dtype(), os, out);
    }

    /** Unary, binary, or variadic (Sum/Min/Max, pairwise from the left) elementwise operator. */
    private static CVal elementwise(Elementwise op, List<CVal> in) {
        if (op.unary()) {
            CVal x = in.get(0);
            double[] out = new double[x.numel()];
            for (int i = 0; i < out.length; i++) out[i] = round(x.dtype(), op.apply(x.data()[i]));
            return new CVal(x.dtype(), x.shape(), out);
        }
        CVal acc = in.get(0);
        for (int k = 1; k < in.size(); k++) acc = binary(op, acc, in.get(k));
        return acc;
    }

    private static double round(DType t, double v) { return Elements.round(t, v); }

    private static CVal binary(Elementwise op, CVal a, CVal b) {
        int[] os = Shapes.broadcast(a.shape(), b.shape());
        double[] out = new double[(int) ShapeMath.numel(os)];
        long[] as = bstrides(a.shape(), os), bs = bstrides(b.shape(), os);
        int[] idx = new int[os.length];
        boolean integer = !a.dtype().isFloatingPoint();
        DType dt = op.comparison() ? DType.U8 : a.dtype();
        for (int i = 0; i < out.length; i++) {
            long ao = 0, bo = 0;
            for (int d = 0; d < os.length; d++) {
                ao += idx[d] * as[d];
                bo += idx[d] * bs[d];
            }
            double x = a.data()[(int) ao], y = b.data()[(int) bo];
            double r = op == Elementwise.DIV && integer ? (double) ((long) x / (long) y) : op.apply(x, y);
            out[i] = round(dt, r);
            for (int d = os.length - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(dt, os, out);
    }

    private static CVal where(CVal c, CVal x, CVal y) {
        int[] os = Shapes.broadcast(Shapes.broadcast(c.shape(), x.shape()), y.shape());
        double[] out = new double[(int) ShapeMath.numel(os)];
        long[] cs = bstrides(c.shape(), os), xs = bstrides(x.shape(), os), ys = bstrides(y.shape(), os);
        int[] idx = new int[os.length];
        for (int i = 0; i < out.length; i++) {
            long co = 0, xo = 0, yo = 0;
            for (int d = 0; d < os.length; d++) {
                co += idx[d] * cs[d];
                xo += idx[d] * xs[d];
                yo += idx[d] * ys[d];
            }
            out[i] = c.data()[(int) co] != 0 ? x.data()[(int) xo] : y.data()[(int) yo];
            for (int d = os.length - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(x.dtype(), os, out);
    }

    /** Strides of {@code s} broadcast to {@code out} (0 on broadcast dimensions). */
    static long[] bstrides(int[] s, int[] out) {
        long[] st = tessera.memory.Shapes.contiguousStrides(s);
        long[] r = new long[out.length];
        int lead = out.length - s.length;
        for (int d = lead; d < out.length; d++) r[d] = s[d - lead] == 1 ? 0 : st[d - lead];
        return r;
    }

    private static CVal transpose(CVal x, int[] perm) {
        int r = x.rank();
        int[] os = new int[r];
        long[] xst = tessera.memory.Shapes.contiguousStrides(x.shape());
        long[] pst = new long[r];
        for (int i = 0; i < r; i++) {
            os[i] = x.shape()[perm[i]];
            pst[i] = xst[perm[i]];
        }
        double[] out = new double[x.numel()];
        int[] idx = new int[r];
        for (int i = 0; i < out.length; i++) {
            long off = 0;
            for (int d = 0; d < r; d++) off += idx[d] * pst[d];
            out[i] = x.data()[(int) off];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(x.dtype(), os, out);
    }
}
