package tessera.memory;

import java.util.Arrays;

/** Shape arithmetic with the checks every allocation needs: positive dimensions, no {@code long} overflow. */
public final class Shapes {
    private Shapes() {}

    /** Product of the dimensions; rejects negative dimensions and overflow with a message naming the shape. */
    public static long numel(int... shape) {
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("dimension " + i + " of shape " + Arrays.toString(shape) + " is negative");
            }
            try {
                n = Math.multiplyExact(n, shape[i]);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + Arrays.toString(shape) + " overflows a long");
            }
        }
        return n;
    }

    /** Like {@link #numel} but also requires every dimension to be at least 1. */
    public static long numelPositive(String what, int... shape) {
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] <= 0) {
                throw new IllegalArgumentException(what + ": dimension " + i + " of shape " + Arrays.toString(shape)
                        + " is " + shape[i] + ", expected >= 1");
            }
        }
        return numel(shape);
    }

    /** Row-major (C-order) strides in elements for {@code shape}. */
    public static long[] contiguousStrides(int... shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** Bytes for {@code count} elements of {@code type}, rejecting overflow. */
    public static long bytes(long count, DType type) {
        try {
            return Math.multiplyExact(count, (long) type.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(count + " elements of " + type + " overflow a long byte count");
        }
    }

    public static String str(int... shape) { return Arrays.toString(shape); }

    /**
     * The NumPy/PyTorch broadcast of two shapes: right-aligned, a missing or size-1 dimension takes the other's size
     * (so 1 with 0 gives 0), equal sizes stay; any other pair (0 with n &gt; 1 included) is an
     * {@link IllegalArgumentException} naming both shapes and the dimension.
     */
    public static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast (dimension " + i + " of the result: " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }
}
