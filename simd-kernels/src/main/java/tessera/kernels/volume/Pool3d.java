package tessera.kernels.volume;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * 3-D pooling over NCDHW ({@link Pool3dSpec}): x [N, C, D, H, W] → y [N, C, oD, oH, oW], overwritten. MAX may also
 * write indices (int64, same shape as y): the position {@code (d·H + h)·W + w} of the maximum within its [D, H, W]
 * volume (the first one on ties; a NaN wins). float32 runs direct loops over each window's in-range taps (computed
 * once per axis, no per-tap bounds tests); float64 runs {@link Pool3dReference}.
 */
public final class Pool3d {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private Pool3d() {}

    public static void forward(Pool3dSpec s, Tensor x, Tensor y, Tensor indices) {
        String op = "Pool3d.forward";
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, x);
        if (x.rank() != 5) throw new IllegalArgumentException(op + ": x has shape " + java.util.Arrays.toString(x.shape()) + ", expected rank 5 [N, C, D, H, W]");
        int[] in = {x.dim(2), x.dim(3), x.dim(4)};
        s.validate(in);
        int[] out = s.out(in);
        Checks3d.tensor(op, "x", x, d, x.shape());
        Checks3d.tensor(op, "y", y, d, Checks3d.dims(x.dim(0), x.dim(1), out));
        if (indices != null) {
            if (s.type() != PoolType.MAX) throw new IllegalArgumentException(op + ": indices are only written by MAX pooling, not " + s.type());
            Checks3d.tensor(op, "indices", indices, DType.I64, Checks3d.dims(x.dim(0), x.dim(1), out));
        }
        if (d == DType.F64) {
            Pool3dReference.forward(s, x, y, indices);
            return;
        }
        int planes = x.dim(0) * x.dim(1);
        int[][] lo = new int[3][], hi = new int[3][], count = new int[3][];
        for (int a = 0; a < 3; a++) {
            lo[a] = new int[out[a]];
            hi[a] = new int[out[a]];
            count[a] = new int[out[a]];
            int[] st = s.strides(), p = s.pads();
            for (int o = 0; o < out[a]; o++) {
                int start = o * st[a] - p[a];
                lo[a][o] = s.firstTap(start, a);
                hi[a][o] = s.endTap(start, a, in[a]);
                count[a][o] = s.countIncludePad() ? s.endTap(start, a, in[a] + p[a + 3]) : hi[a][o] - lo[a][o];
            }
        }
        int[] st = s.strides(), p = s.pads(), dl = s.dilations();
        long inVol = (long) in[0] * in[1] * in[2], outVol = (long) out[0] * out[1] * out[2];
        MemorySegment xs = x.segment(), ys = y.segment();
        for (int pl = 0; pl < planes; pl++) {
            long xp = x.offset() + pl * inVol, yo = y.offset() + pl * outVol, io = indices == null ? 0 : indices.offset() + pl * outVol;
            for (int od = 0; od < out[0]; od++)
                for (int oh = 0; oh < out[1]; oh++)
                    for (int ow = 0; ow < out[2]; ow++, yo++, io++) {
                        int d0 = od * st[0] - p[0], h0 = oh * st[1] - p[1], w0 = ow * st[2] - p[2];
                        float acc = s.type() == PoolType.MAX ? Float.NEGATIVE_INFINITY : 0f;
                        long best = -1;
                        for (int td = lo[0][od]; td < hi[0][od]; td++) {
                            long dRow = (long) (d0 + td * dl[0]) * in[1];
                            for (int th = lo[1][oh]; th < hi[1][oh]; th++) {
                                long line = (dRow + h0 + th * dl[1]) * in[2] + w0;
                                for (int tw = lo[2][ow]; tw < hi[2][ow]; tw++) {
                                    long e = line + (long) tw * dl[2];
                                    float v = xs.getAtIndex(F32, xp + e);
                                    switch (s.type()) {
                                        case MAX -> {
                                            if (best < 0 || v > acc || (Float.isNaN(v) && !Float.isNaN(acc))) {
                                                acc = v;
                                                best = e;
                                            }
                                        }
                                        case AVG -> acc += v;
                                        case L2 -> acc += v * v;
                                    }
                                }
                            }
                        }
                        float r = switch (s.type()) {
                            case MAX -> acc;
                            case AVG -> acc / ((long) count[0][od] * count[1][oh] * count[2][ow]);
                            case L2 -> (float) Math.sqrt(acc);
                        };
                        ys.setAtIndex(F32, yo, r);
                        if (indices != null) indices.segment().setAtIndex(I64, io, best);
                    }
        }
    }

    /**
     * dx [N, C, D, H, W] = ∂⟨pool(x), dy⟩/∂x, overwritten: MAX routes dy to its window's maximum (recomputed from x,
     * the same tap the forward picks), AVG spreads dy / divisor over the window's taps inside the input, L2 gives
     * dy·x / y (0 where y = 0). One float64-accumulating loop ({@link Pool3dReference#backward}) for both float
     * types: a training-free path (vjp), checked against finite differences of the forward reference.
     */
    public static void backward(Pool3dSpec s, Tensor x, Tensor dy, Tensor dx) {
        String op = "Pool3d.backward";
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, x);
        if (x.rank() != 5) throw new IllegalArgumentException(op + ": x has shape " + java.util.Arrays.toString(x.shape()) + ", expected rank 5 [N, C, D, H, W]");
        int[] in = {x.dim(2), x.dim(3), x.dim(4)};
        s.validate(in);
        Checks3d.tensor(op, "x", x, d, x.shape());
        Checks3d.tensor(op, "dy", dy, d, Checks3d.dims(x.dim(0), x.dim(1), s.out(in)));
        Checks3d.tensor(op, "dx", dx, d, x.shape());
        Pool3dReference.backward(s, x, dy, dx);
    }
}
