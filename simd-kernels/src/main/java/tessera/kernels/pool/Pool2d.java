package tessera.kernels.pool;

import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.Layout;
import tessera.memory.Tensor;

/**
 * 2-d pooling over contiguous NCHW tensors: max (with argmax indices), average, L2, global average and global max,
 * max-unpooling, and the backward of each.
 *
 * <p>Float tensors of one call share a dtype: {@code F32} runs the Vector API kernels in parallel over the N·C
 * planes on the compute pool; {@code F64} runs the plain-loop reference. Indices are {@code I64} tensors of the
 * pooled shape holding the flat position {@code h·W + w} of each maximum within its input plane (as PyTorch's
 * {@code return_indices}). Outputs are preallocated by the caller and overwritten. Bad shapes, dtypes, layouts or
 * descriptors throw {@link IllegalArgumentException} naming the argument.
 */
public final class Pool2d {
    private Pool2d() {}

    /**
     * {@code y[n,c,p,q]} = pool of the window of output (p, q) in {@code x[n,c]}.
     *
     * @param x       input [N,C,H,W]
     * @param y       output [N,C,P,Q] with P = {@code s.outH(H)}, Q = {@code s.outW(W)}
     * @param indices I64 [N,C,P,Q] argmax positions (MAX only; may be null; must be null for AVG and L2)
     */
    public static void forward(PoolSpec s, Tensor x, Tensor y, Tensor indices) {
        requireSpec(s);
        checkActivation("x", x);
        s.validate(x.dim(2), x.dim(3));
        int N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), P = s.outH(H), Q = s.outW(W);
        checkFloat("y", y, x.dtype());
        checkShape("y", y, N, C, P, Q);
        if (indices != null) {
            if (s.type() != PoolType.MAX) {
                throw new IllegalArgumentException("indices must be null for " + s.type() + " pooling (only MAX has an argmax)");
            }
            checkIndices("indices", indices, N, C, P, Q);
        }
        int planes = planes(N, C);
        if (x.dtype() == DType.F64) {
            PoolReference.forward(s, planes, H, W, x.segment(), x.offset(), y.segment(), y.offset(),
                    indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset());
            return;
        }
        PoolJob job = PoolJob.get().geometry(PoolJob.Kind.FORWARD, s, H, W, P, Q)
                .x(x.segment(), x.offset() * 4).y(y.segment(), y.offset() * 4);
        job.idx(indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset() * 8).run(planes);
    }

    /**
     * {@code dx} = gradient of {@link #forward} with respect to x, given {@code dy}; dx is overwritten.
     * MAX: dy goes to the argmax, taken from {@code indices} or, when indices is null, recomputed from x.
     * AVG: dy/divisor to every tap inside the input (x and y may be null). L2: dy·x/y to every tap (x required;
     * y may be null and is then recomputed; where y = 0 the gradient is 0).
     *
     * @param x       input [N,C,H,W] (see above when it may be null)
     * @param y       forward output [N,C,P,Q] or null
     * @param indices I64 [N,C,P,Q] from the forward pass (MAX), or null
     * @param dy      gradient of the output [N,C,P,Q]
     * @param dx      gradient of the input [N,C,H,W], overwritten
     */
    public static void backward(PoolSpec s, Tensor x, Tensor y, Tensor indices, Tensor dy, Tensor dx) {
        requireSpec(s);
        checkActivation("dx", dx);
        DType dt = dx.dtype();
        int N = dx.dim(0), C = dx.dim(1), H = dx.dim(2), W = dx.dim(3);
        s.validate(H, W);
        int P = s.outH(H), Q = s.outW(W);
        checkFloat("dy", dy, dt);
        checkShape("dy", dy, N, C, P, Q);
        boolean needX = s.type() == PoolType.L2 || (s.type() == PoolType.MAX && indices == null);
        if (x == null && needX) {
            throw new IllegalArgumentException("x must not be null for " + s.type() + " backward"
                    + (s.type() == PoolType.MAX ? " without indices (the argmax is recomputed from x)" : ""));
        }
        if (x != null) {
            checkFloat("x", x, dt);
            checkShape("x", x, N, C, H, W);
        }
        if (y != null) {
            checkFloat("y", y, dt);
            checkShape("y", y, N, C, P, Q);
        }
        if (indices != null) {
            if (s.type() != PoolType.MAX) {
                throw new IllegalArgumentException("indices must be null for " + s.type() + " pooling (only MAX has an argmax)");
            }
            checkIndices("indices", indices, N, C, P, Q);
        }
        int planes = planes(N, C);
        if (dt == DType.F64) {
            PoolReference.backward(s, planes, H, W, x == null ? null : x.segment(), x == null ? 0 : x.offset(),
                    y == null ? null : y.segment(), y == null ? 0 : y.offset(),
                    indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset(),
                    dy.segment(), dy.offset(), dx.segment(), dx.offset());
            return;
        }
        PoolJob job = PoolJob.get().geometry(PoolJob.Kind.BACKWARD, s, H, W, P, Q)
                .x(x == null ? null : x.segment(), x == null ? 0 : x.offset() * 4)
                .y(y == null ? null : y.segment(), y == null ? 0 : y.offset() * 4)
                .idx(indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset() * 8);
        job.dy(dy.segment(), dy.offset() * 4).dx(dx.segment(), dx.offset() * 4).run(planes);
    }

    /** {@code y[n,c,0,0]} = mean of {@code x[n,c]}; x [N,C,H,W], y [N,C,1,1]. */
    public static void globalAvg(Tensor x, Tensor y) {
        checkActivation("x", x);
        int N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
        checkFloat("y", y, x.dtype());
        checkShape("y", y, N, C, 1, 1);
        int HW = planeSize(H, W);
        if (x.dtype() == DType.F64) {
            PoolReference.globalAvg(planes(N, C), HW, x.segment(), x.offset(), y.segment(), y.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.GLOBAL_AVG, null, H, W, 1, 1).x(x.segment(), x.offset() * 4)
                .y(y.segment(), y.offset() * 4).run(planes(N, C));
    }

    /** {@code dx[n,c,h,w]} = dy[n,c,0,0] / (H·W); dy [N,C,1,1], dx [N,C,H,W] overwritten. */
    public static void globalAvgBackward(Tensor dy, Tensor dx) {
        checkActivation("dx", dx);
        int N = dx.dim(0), C = dx.dim(1), H = dx.dim(2), W = dx.dim(3);
        checkFloat("dy", dy, dx.dtype());
        checkShape("dy", dy, N, C, 1, 1);
        int HW = planeSize(H, W);
        if (dx.dtype() == DType.F64) {
            PoolReference.globalAvgBackward(planes(N, C), HW, dy.segment(), dy.offset(), dx.segment(), dx.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.GLOBAL_AVG_BACKWARD, null, H, W, 1, 1).dy(dy.segment(), dy.offset() * 4)
                .dx(dx.segment(), dx.offset() * 4).run(planes(N, C));
    }

    /** {@code y[n,c,0,0]} = max of {@code x[n,c]}, indices (I64 [N,C,1,1], nullable) its flat position h·W + w. */
    public static void globalMax(Tensor x, Tensor y, Tensor indices) {
        checkActivation("x", x);
        int N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
        checkFloat("y", y, x.dtype());
        checkShape("y", y, N, C, 1, 1);
        if (indices != null) checkIndices("indices", indices, N, C, 1, 1);
        int HW = planeSize(H, W);
        if (x.dtype() == DType.F64) {
            PoolReference.globalMax(planes(N, C), HW, x.segment(), x.offset(), y.segment(), y.offset(),
                    indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.GLOBAL_MAX, null, H, W, 1, 1).x(x.segment(), x.offset() * 4)
                .y(y.segment(), y.offset() * 4)
                .idx(indices == null ? null : indices.segment(), indices == null ? 0 : indices.offset() * 8)
                .run(planes(N, C));
    }

    /** dx (overwritten, [N,C,H,W]) = 0 except {@code dx[n,c].flat[indices[n,c]] = dy[n,c]}; indices, dy [N,C,1,1]. */
    public static void globalMaxBackward(Tensor indices, Tensor dy, Tensor dx) {
        checkActivation("dx", dx);
        int N = dx.dim(0), C = dx.dim(1), H = dx.dim(2), W = dx.dim(3);
        checkFloat("dy", dy, dx.dtype());
        checkShape("dy", dy, N, C, 1, 1);
        requireNonNull("indices", indices);
        checkIndices("indices", indices, N, C, 1, 1);
        planeSize(H, W);
        if (dx.dtype() == DType.F64) {
            PoolReference.globalMaxBackward(planes(N, C), H, W, indices.segment(), indices.offset(), dy.segment(),
                    dy.offset(), dx.segment(), dx.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.GLOBAL_MAX_BACKWARD, null, H, W, 1, 1)
                .idx(indices.segment(), indices.offset() * 8).dy(dy.segment(), dy.offset() * 4)
                .dx(dx.segment(), dx.offset() * 4).run(planes(N, C));
    }

    /**
     * Max-unpooling: y (overwritten, [N,C,H,W]) is zero-filled, then {@code y[n,c].flat[indices[n,c,p,q]] =
     * x[n,c,p,q]}; x and indices [N,C,P,Q]. Where indices repeat, the later (row-major) entry wins.
     */
    public static void maxUnpool(Tensor x, Tensor indices, Tensor y) {
        checkActivation("y", y);
        int N = y.dim(0), C = y.dim(1), H = y.dim(2), W = y.dim(3);
        checkFloat("x", x, y.dtype());
        checkContiguous4d("x", x);
        checkShape("x", x, N, C, x.dim(2), x.dim(3));
        int P = x.dim(2), Q = x.dim(3);
        requireNonNull("indices", indices);
        checkIndices("indices", indices, N, C, P, Q);
        planeSize(H, W);
        if (y.dtype() == DType.F64) {
            PoolReference.maxUnpool(planes(N, C), planeSize(P, Q), H, W, x.segment(), x.offset(), indices.segment(),
                    indices.offset(), y.segment(), y.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.UNPOOL, null, H, W, P, Q).x(x.segment(), x.offset() * 4)
                .idx(indices.segment(), indices.offset() * 8).y(y.segment(), y.offset() * 4).run(planes(N, C));
    }

    /** Gradient of {@link #maxUnpool}: {@code dx[n,c,p,q] = dy[n,c].flat[indices[n,c,p,q]]}; dy [N,C,H,W], dx [N,C,P,Q]. */
    public static void maxUnpoolBackward(Tensor indices, Tensor dy, Tensor dx) {
        checkActivation("dy", dy);
        int N = dy.dim(0), C = dy.dim(1), H = dy.dim(2), W = dy.dim(3);
        checkFloat("dx", dx, dy.dtype());
        checkContiguous4d("dx", dx);
        checkShape("dx", dx, N, C, dx.dim(2), dx.dim(3));
        int P = dx.dim(2), Q = dx.dim(3);
        requireNonNull("indices", indices);
        checkIndices("indices", indices, N, C, P, Q);
        planeSize(H, W);
        if (dy.dtype() == DType.F64) {
            PoolReference.maxUnpoolBackward(planes(N, C), planeSize(P, Q), H, W, indices.segment(), indices.offset(),
                    dy.segment(), dy.offset(), dx.segment(), dx.offset());
            return;
        }
        PoolJob.get().geometry(PoolJob.Kind.UNPOOL_BACKWARD, null, H, W, P, Q).idx(indices.segment(), indices.offset() * 8)
                .dy(dy.segment(), dy.offset() * 4).dx(dx.segment(), dx.offset() * 4).run(planes(N, C));
    }

    // ---------------------------------------------------------------- argument checks

    private static void requireSpec(PoolSpec s) {
        if (s == null) throw new IllegalArgumentException("pool spec must not be null");
    }

    private static void requireNonNull(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(name + " must not be null");
    }

    /** A float32/float64, rank-4, contiguous NCHW tensor with non-empty planes. */
    private static void checkActivation(String name, Tensor t) {
        requireNonNull(name, t);
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + ", expected F32 or F64");
        }
        checkContiguous4d(name, t);
        for (int d = 0; d < 4; d++) {
            if (t.dim(d) <= 0) {
                throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + ", expected every dimension > 0");
            }
        }
    }

    private static void checkContiguous4d(String name, Tensor t) {
        requireNonNull(name, t);
        if (t.rank() != 4) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + " (rank " + t.rank()
                    + "), expected a rank-4 NCHW tensor [N,C,H,W]");
        }
        if (t.layout() != Layout.NCHW && t.layout() != Layout.ANY) {
            throw new IllegalArgumentException(name + " has layout " + t.layout() + ", expected NCHW (convert it first)");
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + " of shape " + Arrays.toString(t.shape()) + " has strides "
                    + Arrays.toString(t.strides()) + ": expected a contiguous NCHW tensor (call contiguous() first)");
        }
    }

    private static void checkFloat(String name, Tensor t, DType expected) {
        requireNonNull(name, t);
        if (t.dtype() != expected) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + ", expected " + expected + " like the other float tensors");
        }
        checkContiguous4d(name, t);
    }

    private static void checkIndices(String name, Tensor t, int N, int C, int P, int Q) {
        if (t.dtype() != DType.I64) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + ", expected I64");
        }
        checkContiguous4d(name, t);
        checkShape(name, t, N, C, P, Q);
    }

    private static void checkShape(String name, Tensor t, int N, int C, int H, int W) {
        if (t.dim(0) != N || t.dim(1) != C || t.dim(2) != H || t.dim(3) != W) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + ", expected ["
                    + N + ", " + C + ", " + H + ", " + W + "]");
        }
    }

    private static int planes(int N, int C) {
        long n = (long) N * C;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("N*C = " + n + " planes exceed the supported " + Integer.MAX_VALUE);
        return (int) n;
    }

    private static int planeSize(int H, int W) {
        long n = (long) H * W;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("plane of " + H + "x" + W + " = " + n
                + " elements exceeds the supported " + Integer.MAX_VALUE);
        return (int) n;
    }
}
