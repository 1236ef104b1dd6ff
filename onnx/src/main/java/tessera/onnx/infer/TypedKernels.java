package tessera.onnx.infer;

import java.lang.foreign.MemorySegment;
import tessera.memory.DType;
import tessera.memory.Elements;
import tessera.memory.Tensor;
import tessera.onnx.Elementwise;

/**
 * Kernels for tensors of element types other than float32 (float64, float16, bfloat16, the integer types, bool as
 * U8 0/1): casts and the broadcasting elementwise operators, as plain loops over {@link Elements}. Integer operands
 * compute in 64-bit integer arithmetic (wrapping to the output width as NumPy does, division truncating); anything
 * with a floating operand computes in float64 and rounds once to the output type. The float32 kernels are untouched.
 * Each kernel is bound to fixed tensors and owns its counters, so running it allocates nothing.
 */
final class TypedKernels {
    private TypedKernels() {}

    /** True when every element of {@code t} is exactly a float32 (so float32 kernels that only select values are exact). */
    static boolean exactInFloat32(DType t) {
        return switch (t) {
            case F32, F16, BF16, I8, U8, I16, U16 -> true;
            default -> false;
        };
    }

    private static boolean integer(DType t) { return !t.isFloatingPoint(); }

    /** ONNX Cast between contiguous tensors of equal shape; {@code bool} maps nonzero to 1. */
    static final class Convert implements Runnable {
        private final MemorySegment xs, ys;
        private final DType xt, yt;
        private final long xo, yo, n;
        private final boolean bool, integers;

        Convert(Tensor x, Tensor y, boolean bool) {
            xs = x.segment();
            ys = y.segment();
            xt = x.dtype();
            yt = y.dtype();
            xo = x.offset();
            yo = y.offset();
            n = x.numel();
            this.bool = bool;
            integers = integer(xt) && integer(yt);
        }

        @Override
        public void run() {
            for (long i = 0; i < n; i++) {
                if (bool) Elements.writeLong(ys, yt, yo + i, Elements.read(xs, xt, xo + i) != 0 ? 1 : 0);
                else if (integers) Elements.writeLong(ys, yt, yo + i, Elements.readLong(xs, xt, xo + i));
                else Elements.write(ys, yt, yo + i, Elements.read(xs, xt, xo + i));
            }
        }
    }

    /** Fills a contiguous tensor of any type with {@code v} (converted as a write of {@link Elements} converts). */
    static void fill(Tensor t, double v) {
        MemorySegment s = t.segment();
        long o = t.offset(), n = t.numel();
        for (long i = 0; i < n; i++) Elements.write(s, t.dtype(), o + i, v);
    }

    /**
     * y = op(x) for a unary operator, or op(a, b) for a binary one (comparisons write U8 0/1), or, when op is null,
     * Where(cond, a, b); inputs are views expanded to y's shape (stride 0 on broadcast dimensions), y contiguous.
     */
    static final class Eltwise implements Runnable {
        private final Elementwise op;
        private final MemorySegment[] segs;
        private final DType[] types;
        private final long[] base, pos;
        private final long[][] strides;
        private final MemorySegment out;
        private final DType outType;
        private final long outOff, n;
        private final int[] shape, idx;
        /** All value operands and the output are integers: 64-bit integer arithmetic. */
        private final boolean integers, unsigned64;

        Eltwise(Elementwise op, Tensor[] ins, Tensor y) {
            this.op = op;
            int k = ins.length;
            segs = new MemorySegment[k];
            types = new DType[k];
            base = new long[k];
            pos = new long[k];
            strides = new long[k][];
            for (int i = 0; i < k; i++) {
                segs[i] = ins[i].segment();
                types[i] = ins[i].dtype();
                base[i] = ins[i].offset();
                strides[i] = ins[i].strides();
            }
            out = y.segment();
            outType = y.dtype();
            outOff = y.offset();
            n = y.numel();
            shape = y.shape();
            idx = new int[shape.length];
            int first = op == null ? 1 : 0;
            boolean ints = true;
            for (int i = first; i < k; i++) ints &= integer(types[i]);
            integers = ints && (op == null || op.comparison() || integer(outType));
            unsigned64 = types[first] == DType.U64;
        }

        @Override
        public void run() {
            int r = shape.length;
            java.util.Arrays.fill(idx, 0);
            System.arraycopy(base, 0, pos, 0, pos.length);
            for (long i = 0; i < n; i++) {
                if (integers) writeLong(outOff + i, computeLong());
                else Elements.write(out, outType, outOff + i, computeDouble());
                for (int d = r - 1; d >= 0; d--) {
                    for (int k = 0; k < pos.length; k++) pos[k] += strides[k][d];
                    if (++idx[d] < shape[d]) break;
                    for (int k = 0; k < pos.length; k++) pos[k] -= strides[k][d] * shape[d];
                    idx[d] = 0;
                }
            }
        }

        private void writeLong(long at, long v) { Elements.writeLong(out, outType, at, v); }

        private double computeDouble() {
            if (op == null) return Elements.read(segs[0], types[0], pos[0]) != 0 ? d(1) : d(2);
            return op.unary() ? op.apply(d(0)) : op.apply(d(0), d(1));
        }

        private double d(int k) { return Elements.read(segs[k], types[k], pos[k]); }

        private long l(int k) { return Elements.readLong(segs[k], types[k], pos[k]); }

        private long computeLong() {
            if (op == null) return Elements.read(segs[0], types[0], pos[0]) != 0 ? l(1) : l(2);
            long a = l(0);
            if (op.unary()) {
                return switch (op) {
                    case NEG -> -a;
                    case ABS -> unsigned64 ? a : Math.abs(a);
                    case SIGN -> unsigned64 ? (a == 0 ? 0 : 1) : Long.signum(a);
                    default -> throw new IllegalStateException(op + " on integers");
                };
            }
            long b = l(1);
            int c = unsigned64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
            return switch (op) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> {
                    if (b == 0) throw new ArithmeticException("integer division by zero");
                    yield unsigned64 ? Long.divideUnsigned(a, b) : a / b;
                }
                case POW -> pow(a, b);
                case MIN -> c <= 0 ? a : b;
                case MAX -> c >= 0 ? a : b;
                case EQUAL -> a == b ? 1 : 0;
                case GREATER -> c > 0 ? 1 : 0;
                case LESS -> c < 0 ? 1 : 0;
                default -> throw new IllegalStateException(op + " on integers");
            };
        }

        /** a^b in wrapping 64-bit arithmetic for b ≥ 0; for b < 0 the truncated real power (0 unless |a| = 1). */
        private static long pow(long a, long b) {
            if (b < 0) {
                if (a == 0) throw new ArithmeticException("0 raised to the negative power " + b);
                return (long) Math.pow(a, b);
            }
            long r = 1;
            while (b > 0) {
                if ((b & 1) != 0) r *= a;
                a *= a;
                b >>= 1;
            }
            return r;
        }
    }
}
