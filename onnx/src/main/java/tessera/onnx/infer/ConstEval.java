package tessera.onnx.infer;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import tessera.memory.DType;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;

/**
 * Load-time evaluation of operators whose inputs are all known: the Shape → Gather → Unsqueeze → Concat chains that
 * exporters put before Reshape and Flatten, and arithmetic on constant tensors. Plain loops on doubles; only used
 * for tensors up to {@link #MAX_ELEMENTS} elements.
 */
final class ConstEval {
    static final long MAX_ELEMENTS = 1L << 22;

    static final Set<String> FOLDABLE = Set.of("Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast",
            "Reshape", "Flatten", "Identity", "Dropout", "Add", "Sub", "Mul", "Div", "ConstantOfShape", "Transpose", "Sum");

    private ConstEval() {}

    /** Evaluates {@code n} on constant inputs ({@code in.get(k)} null for an omitted optional input). */
    static CVal eval(OnnxNode n, List<CVal> in, long opset) {
        try {
            return switch (n.opType()) {
                case "Identity", "Dropout" -> in.get(0);
                case "Shape" -> {
                    int r = in.get(0).rank();
                    int start = (int) clampAxis(n.getInt("start", 0), r), end = (int) clampAxis(n.getInt("end", r), r);
                    long[] s = new long[Math.max(0, end - start)];
                    for (int i = 0; i < s.length; i++) s[i] = in.get(0).shape()[start + i];
                    yield CVal.longs(s);
                }
                case "Cast" -> cast(in.get(0), (int) n.getInt("to", 1));
                case "Reshape" -> {
                    CVal x = in.get(0);
                    yield new CVal(x.dtype(), ShapeMath.reshape(x.shape(), in.get(1).toLongs()), x.data());
                }
                case "Flatten" -> {
                    CVal x = in.get(0);
                    int ax = (int) clampAxis(n.getInt("axis", 1), x.rank());
                    yield new CVal(x.dtype(), new int[] {(int) ShapeMath.prod(x.shape(), 0, ax), (int) ShapeMath.prod(x.shape(), ax, x.rank())}, x.data());
                }
                case "Squeeze" -> {
                    CVal x = in.get(0);
                    long[] axes = opset >= 13 ? (in.size() > 1 && in.get(1) != null ? in.get(1).toLongs() : null) : n.getInts("axes", null);
                    yield new CVal(x.dtype(), ShapeMath.squeeze(x.shape(), axes), x.data());
                }
                case "Unsqueeze" -> {
                    CVal x = in.get(0);
                    long[] axes = opset >= 13 ? in.get(1).toLongs() : n.getInts("axes", null);
                    yield new CVal(x.dtype(), ShapeMath.unsqueeze(x.shape(), axes), x.data());
                }
                case "Gather" -> gather(in.get(0), in.get(1), n.getInt("axis", 0));
                case "Concat" -> concat(in, n.getInt("axis", 0));
                case "Slice" -> slice(n, in, opset);
                case "Add", "Sub", "Mul", "Div", "Sum" -> binary(n.opType(), in);
                case "ConstantOfShape" -> {
                    long[] shape = in.get(0).toLongs();
                    int[] s = new int[shape.length];
                    long total = 1;
                    for (int i = 0; i < s.length; i++) {
                        if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has an invalid dimension");
                        s[i] = (int) shape[i];
                        total *= s[i];
                        if (total > MAX_ELEMENTS) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for a constant");
                    }
                    var t = n.getTensor("value");
                    DType dt = t == null ? DType.F32 : t.dtype();
                    double v = t == null ? 0 : t.toDoubleArray()[0];
                    double[] d = new double[(int) total];
                    Arrays.fill(d, v);
                    yield new CVal(dt, s, d);
                }
                case "Transpose" -> transpose(in.get(0), n.getIntArray("perm", null));
                default -> throw new IllegalStateException("not foldable: " + n.opType());
            };
        } catch (OnnxFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new OnnxFormatException(n.describe() + ": " + e.getMessage(), e);
        }
    }

    private static long clampAxis(long a, int r) {
        if (a < 0) a += r;
        return Math.max(0, Math.min(a, r));
    }

    static CVal cast(CVal x, int to) {
        DType dt = tessera.onnx.OnnxTypes.dtypeOf(to);
        double[] d = x.data().clone();
        if (!dt.isFloatingPoint()) for (int i = 0; i < d.length; i++) d[i] = dt == DType.U8 ? (d[i] != 0 ? 1 : 0) : (long) d[i];
        else if (dt == DType.F32) for (int i = 0; i < d.length; i++) d[i] = (float) d[i];
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

    private static CVal slice(OnnxNode n, List<CVal> in, long opset) {
        CVal x = in.get(0);
        long[] starts, ends, axes, steps;
        if (opset < 10) {
            starts = n.getInts("starts", null);
            ends = n.getInts("ends", null);
            axes = n.getInts("axes", null);
            steps = null;
        } else {
            starts = in.get(1).toLongs();
            ends = in.get(2).toLongs();
            axes = in.size() > 3 && in.get(3) != null ? in.get(3).toLongs() : null;
            steps = in.size() > 4 && in.get(4) != null ? in.get(4).toLongs() : null;
        }
        int[][] s = ShapeMath.slice(x.shape(), starts, ends, axes, steps);
        int[] os = s[2];
        double[] out = new double[(int) ShapeMath.numel(os)];
        int[] idx = new int[os.length];
        long[] xst = tessera.memory.Shapes.contiguousStrides(x.shape());
        for (int i = 0; i < out.length; i++) {
            long off = 0;
            for (int d = 0; d < os.length; d++) off += (long) (s[0][d] + idx[d] * s[1][d]) * xst[d];
            out[i] = x.data()[(int) off];
            for (int d = os.length - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(x.dtype(), os, out);
    }

    private static CVal binary(String op, List<CVal> in) {
        CVal acc = in.get(0);
        for (int k = 1; k < in.size(); k++) acc = binary2(op.equals("Sum") ? "Add" : op, acc, in.get(k));
        return acc;
    }

    private static CVal binary2(String op, CVal a, CVal b) {
        int[] os = ShapeMath.broadcast(a.shape(), b.shape());
        if (os == null) throw new IllegalArgumentException("shapes " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()) + " do not broadcast");
        double[] out = new double[(int) ShapeMath.numel(os)];
        long[] as = bstrides(a.shape(), os), bs = bstrides(b.shape(), os);
        int[] idx = new int[os.length];
        boolean integer = !a.dtype().isFloatingPoint();
        for (int i = 0; i < out.length; i++) {
            long ao = 0, bo = 0;
            for (int d = 0; d < os.length; d++) {
                ao += idx[d] * as[d];
                bo += idx[d] * bs[d];
            }
            double x = a.data()[(int) ao], y = b.data()[(int) bo];
            double r = switch (op) {
                case "Add" -> x + y;
                case "Sub" -> x - y;
                case "Mul" -> x * y;
                default -> integer ? (double) ((long) x / (long) y) : x / y;
            };
            out[i] = a.dtype() == DType.F32 ? (float) r : r;
            for (int d = os.length - 1; d >= 0; d--) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
        return new CVal(a.dtype(), os, out);
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
        if (perm == null) {
            perm = new int[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        if (perm.length != r) throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " does not match rank " + r);
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
