package tessera.kernels.layout;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import tessera.memory.DType;
import tessera.memory.Layout;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Conversions between activation layouts (see {@link Layout}):
 * <ul>
 *   <li>NCHW {@code [N, C, H, W]} ↔ NHWC, stored as a tensor of shape {@code [N, H, W, C]};</li>
 *   <li>NCHW ↔ NCHW[b]c, shape {@code [N, ceil(C/b), H, W, b]}, channel {@code c} of the NCHW tensor at
 *       {@code [n, c / b, h, w, c % b]}; the lanes past C in the last block are written as zeros.</li>
 * </ul>
 * Sources may be any view (any strides) of the stated shape. float32 tensors with contiguous source and destination
 * take the vectorized path (in-register tile transposes); everything else (float64, integer types, strided views)
 * takes the reference path, plain loops that read like the index formula. Results are bitwise equal.
 * Destinations are overwritten; they must not overlap the source.
 */
public final class Layouts {
    private Layouts() {}

    // ---------------------------------------------------------------- NCHW <-> NHWC

    /** {@code src [N,C,H,W]} → a new contiguous {@code [N,H,W,C]} tensor in {@code arena}, tagged {@link Layout#NHWC}. */
    /** Channel block of {@link Layout#NCHW_BLOCKED} that fits the CPU: the float lanes of the preferred species. */
    public static int preferredBlock() { return tessera.kernels.Species.FLOAT.length(); }

    public static Tensor nchwToNhwc(Tensor src, TensorArena arena) {
        requireRank("nchwToNhwc", "src", src, 4);
        Tensor dst = arena.allocate(src.dtype(), Layout.NHWC, src.dim(0), src.dim(2), src.dim(3), src.dim(1));
        nchwToNhwc(src, dst);
        return dst;
    }

    /** {@code src [N,C,H,W]} → {@code dst [N,H,W,C]} (overwritten). */
    public static void nchwToNhwc(Tensor src, Tensor dst) {
        requireRank("nchwToNhwc", "src", src, 4);
        int n = src.dim(0), c = src.dim(1), h = src.dim(2), w = src.dim(3);
        requireShape("nchwToNhwc", src, dst, n, h, w, c);
        if (fast(src, dst)) {
            long hw = (long) h * w;
            for (int i = 0; i < n; i++) {
                long plane = (long) i * c * hw;
                F32Transpose.transpose(src.segment(), src.offset() + plane, hw, dst.segment(), dst.offset() + plane, c,
                        c, Math.toIntExact(hw));
            }
        } else {
            copyPermuted(src.permute(0, 2, 3, 1), dst);
        }
    }

    /** {@code src [N,H,W,C]} (NHWC) → a new contiguous {@code [N,C,H,W]} tensor in {@code arena}, tagged NCHW. */
    public static Tensor nhwcToNchw(Tensor src, TensorArena arena) {
        requireRank("nhwcToNchw", "src", src, 4);
        Tensor dst = arena.allocate(src.dtype(), Layout.NCHW, src.dim(0), src.dim(3), src.dim(1), src.dim(2));
        nhwcToNchw(src, dst);
        return dst;
    }

    /** {@code src [N,H,W,C]} → {@code dst [N,C,H,W]} (overwritten). */
    public static void nhwcToNchw(Tensor src, Tensor dst) {
        requireRank("nhwcToNchw", "src", src, 4);
        int n = src.dim(0), h = src.dim(1), w = src.dim(2), c = src.dim(3);
        requireShape("nhwcToNchw", src, dst, n, c, h, w);
        if (fast(src, dst)) {
            long hw = (long) h * w;
            for (int i = 0; i < n; i++) {
                long plane = (long) i * c * hw;
                F32Transpose.transpose(src.segment(), src.offset() + plane, c, dst.segment(), dst.offset() + plane, hw,
                        Math.toIntExact(hw), c);
            }
        } else {
            copyPermuted(src.permute(0, 3, 1, 2), dst);
        }
    }

    // ---------------------------------------------------------------- NCHW <-> NCHW[b]c

    /** Shape of the blocked form of an NCHW tensor: {@code [n, ceil(c/block), h, w, block]}. */
    public static int[] blockedShape(int n, int c, int h, int w, int block) {
        if (block < 1) throw new IllegalArgumentException("channel block " + block + " must be >= 1");
        int[] s = {n, (int) (((long) c + block - 1) / block), h, w, block};
        Shapes.numel(s);
        if (c < 0) throw new IllegalArgumentException("channels " + c + " must be >= 0");
        return s;
    }

    /** {@code src [N,C,H,W]} → a new {@code [N, ceil(C/b), H, W, b]} tensor in {@code arena} with b = {@link #preferredBlock()}. */
    public static Tensor nchwToBlocked(Tensor src, TensorArena arena) {
        return nchwToBlocked(src, preferredBlock(), arena);
    }

    /** {@code src [N,C,H,W]} → a new {@code [N, ceil(C/block), H, W, block]} tensor in {@code arena}, tagged NCHW_BLOCKED. */
    public static Tensor nchwToBlocked(Tensor src, int block, TensorArena arena) {
        requireRank("nchwToBlocked", "src", src, 4);
        int[] shape = blockedShape(src.dim(0), src.dim(1), src.dim(2), src.dim(3), block);
        Tensor dst = arena.allocate(src.dtype(), Layout.NCHW_BLOCKED, shape);
        nchwToBlocked(src, dst);
        return dst;
    }

    /** {@code src [N,C,H,W]} → {@code dst [N, ceil(C/b), H, W, b]} with b = {@code dst.dim(4)}; padding lanes set to 0. */
    public static void nchwToBlocked(Tensor src, Tensor dst) {
        requireRank("nchwToBlocked", "src", src, 4);
        requireRank("nchwToBlocked", "dst", dst, 5);
        int n = src.dim(0), c = src.dim(1), h = src.dim(2), w = src.dim(3), b = dst.dim(4);
        if (b < 1 || dst.dim(0) != n || dst.dim(1) != ((long) c + b - 1) / b
                || dst.dim(2) != h || dst.dim(3) != w) {
            requireShape("nchwToBlocked", src, dst, blockedShape(n, c, h, w, b)); // throws with the expected shape
        }
        requireSameDtype("nchwToBlocked", src, dst);
        if (fast(src, dst)) {
            nchwToBlockedF32(src.segment(), src.offset(), dst.segment(), dst.offset(), n, c, (long) h * w, b);
        } else {
            nchwToBlockedReference(src, dst);
        }
    }

    /** {@code src [N, CB, H, W, b]} → a new {@code [N, channels, H, W]} tensor in {@code arena} (tagged NCHW); padding lanes ignored. */
    public static Tensor blockedToNchw(Tensor src, int channels, TensorArena arena) {
        requireRank("blockedToNchw", "src", src, 5);
        Tensor dst = arena.allocate(src.dtype(), Layout.NCHW, src.dim(0), channels, src.dim(2), src.dim(3));
        blockedToNchw(src, dst);
        return dst;
    }

    /** {@code src [N, ceil(C/b), H, W, b]} → {@code dst [N, C, H, W]} with C = {@code dst.dim(1)}. */
    public static void blockedToNchw(Tensor src, Tensor dst) {
        requireRank("blockedToNchw", "src", src, 5);
        requireRank("blockedToNchw", "dst", dst, 4);
        int n = dst.dim(0), c = dst.dim(1), h = dst.dim(2), w = dst.dim(3), b = src.dim(4);
        if (b < 1 || src.dim(0) != n || src.dim(1) != ((long) c + b - 1) / b
                || src.dim(2) != h || src.dim(3) != w) {
            int[] expected = blockedShape(n, c, h, w, b);
            throw new IllegalArgumentException("blockedToNchw: src shape " + Shapes.str(src.shape()) + " does not match dst shape "
                    + Shapes.str(dst.shape()) + " with block " + b + ": expected src " + Shapes.str(expected));
        }
        requireSameDtype("blockedToNchw", src, dst);
        if (fast(src, dst)) {
            blockedToNchwF32(src.segment(), src.offset(), dst.segment(), dst.offset(), n, c, (long) h * w, b);
        } else {
            blockedToNchwReference(src, dst);
        }
    }

    // ---------------------------------------------------------------- fast paths (float32, contiguous)

    private static void nchwToBlockedF32(MemorySegment s, long sOff, MemorySegment d, long dOff, int n, int c, long hw, int b) {
        int cb = (c + b - 1) / b;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < cb; k++) {
                int c0 = k * b, cnt = Math.min(b, c - c0);
                long from = sOff + ((long) i * c + c0) * hw;
                long to = dOff + ((long) i * cb + k) * hw * b;
                int tile = b == F32Transpose.PREFERRED_TILE ? b : 0;
                F32Transpose.transpose(s, from, hw, d, to, b, cnt, (int) hw, tile);
                if (cnt < b) zeroLanes(d, to, hw, b, cnt);
            }
        }
    }

    private static void zeroLanes(MemorySegment d, long to, long hw, int b, int from) {
        for (long p = 0; p < hw; p++) {
            long row = (to + p * b) * 4;
            d.asSlice(row + from * 4L, (b - from) * 4L).fill((byte) 0);
        }
    }

    private static void blockedToNchwF32(MemorySegment s, long sOff, MemorySegment d, long dOff, int n, int c, long hw, int b) {
        int cb = (c + b - 1) / b;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < cb; k++) {
                int c0 = k * b, cnt = Math.min(b, c - c0);
                long from = sOff + ((long) i * cb + k) * hw * b;
                long to = dOff + ((long) i * c + c0) * hw;
                int tile = b == F32Transpose.PREFERRED_TILE ? b : 0;
                F32Transpose.transpose(s, from, b, d, to, hw, (int) hw, cnt, tile);
            }
        }
    }

    // ---------------------------------------------------------------- reference paths (any dtype, any strides)

    private static void nchwToBlockedReference(Tensor src, Tensor dst) {
        int n = src.dim(0), c = src.dim(1), h = src.dim(2), w = src.dim(3), b = dst.dim(4), cb = dst.dim(1);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < cb; k++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int j = 0; j < b; j++) {
                            int ch = k * b + j;
                            double v = ch < c ? src.readAt(at(src, i, ch, y, x)) : 0.0;
                            dst.writeAt(at(dst, i, k, y, x, j), v);
                        }
    }

    private static void blockedToNchwReference(Tensor src, Tensor dst) {
        int n = dst.dim(0), c = dst.dim(1), h = dst.dim(2), w = dst.dim(3), b = src.dim(4);
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        dst.writeAt(at(dst, i, ch, y, x), src.readAt(at(src, i, ch / b, y, x, ch % b)));
    }

    /** dst[i] = src[i] for 4-d tensors of equal shape (src is a permuted view), element by element. */
    private static void copyPermuted(Tensor src, Tensor dst) {
        int a = dst.dim(0), b = dst.dim(1), c = dst.dim(2), d = dst.dim(3);
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++)
                    for (int l = 0; l < d; l++)
                        dst.writeAt(at(dst, i, j, k, l), src.readAt(at(src, i, j, k, l)));
    }

    private static long at(Tensor t, int... idx) {
        long off = t.offset();
        for (int d = 0; d < idx.length; d++) off += idx[d] * t.stride(d);
        return off;
    }

    // ---------------------------------------------------------------- checks

    /** Shape comparison without copying the shape array (no allocation on the success path). */
    private static boolean hasShape(Tensor t, int[] expected) {
        if (t.rank() != expected.length) return false;
        for (int d = 0; d < expected.length; d++) if (t.dim(d) != expected[d]) return false;
        return true;
    }

    private static boolean fast(Tensor src, Tensor dst) {
        src.checkAlive();
        dst.checkAlive();
        return src.dtype() == DType.F32 && src.isContiguous() && dst.isContiguous();
    }

    private static void requireRank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got shape " + Shapes.str(t.shape()));
        }
    }

    private static void requireShape(String op, Tensor src, Tensor dst, int... expected) {
        if (!hasShape(dst, expected)) {
            throw new IllegalArgumentException(op + ": dst shape " + Shapes.str(dst.shape()) + " does not match src shape "
                    + Shapes.str(src.shape()) + ": expected dst " + Shapes.str(expected));
        }
        requireSameDtype(op, src, dst);
    }

    private static void requireSameDtype(String op, Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException(op + ": src dtype " + src.dtype() + " differs from dst dtype " + dst.dtype());
        }
    }
}
