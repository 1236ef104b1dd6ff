package tessera.memory;

import java.util.SplittableRandom;

/**
 * Seeded random fills. Numbers are drawn in row-major element order from one {@link SplittableRandom} seeded
 * with {@code seed}, so the same seed gives the same tensor on any thread count and any machine.
 */
public final class RandomFill {
    private RandomFill() {}

    /** Fills with independent draws from U[lo, hi). */
    public static Tensor uniform(Tensor t, long seed, double lo, double hi) {
        if (!(hi > lo)) throw new IllegalArgumentException("uniform: need lo < hi, got lo=" + lo + " hi=" + hi);
        SplittableRandom r = new SplittableRandom(seed);
        forEach(t, () -> lo + (hi - lo) * r.nextDouble());
        return t;
    }

    /** Fills with independent draws from N(mean, std²) (Box–Muller on the seeded stream). */
    public static Tensor normal(Tensor t, long seed, double mean, double std) {
        if (!(std >= 0)) throw new IllegalArgumentException("normal: std must be >= 0, got " + std);
        SplittableRandom r = new SplittableRandom(seed);
        double[] spare = {Double.NaN};
        forEach(t, () -> {
            if (!Double.isNaN(spare[0])) {
                double v = spare[0];
                spare[0] = Double.NaN;
                return mean + std * v;
            }
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            double rad = Math.sqrt(-2 * Math.log(u1));
            spare[0] = rad * Math.sin(2 * Math.PI * u2);
            return mean + std * rad * Math.cos(2 * Math.PI * u2);
        });
        return t;
    }

    /** Same draws in the same order, written in chunks (large weight tensors fill in a fraction of a second). */
    private static void fillContiguous(Tensor t, java.util.function.DoubleSupplier next) {
        long n = t.numel();
        int chunk = (int) Math.min(n, 1 << 16);
        long base = t.offset();
        if (t.dtype() == DType.F32) {
            float[] buf = new float[chunk];
            for (long done = 0; done < n; done += chunk) {
                int m = (int) Math.min(chunk, n - done);
                for (int i = 0; i < m; i++) buf[i] = (float) next.getAsDouble();
                java.lang.foreign.MemorySegment.copy(buf, 0, t.segment(), Tensor.F32, (base + done) * 4, m);
            }
        } else {
            double[] buf = new double[chunk];
            for (long done = 0; done < n; done += chunk) {
                int m = (int) Math.min(chunk, n - done);
                for (int i = 0; i < m; i++) buf[i] = next.getAsDouble();
                java.lang.foreign.MemorySegment.copy(buf, 0, t.segment(), Tensor.F64, (base + done) * 8, m);
            }
        }
    }

    private static void forEach(Tensor t, java.util.function.DoubleSupplier next) {
        t.checkAlive();
        if (t.isContiguous() && (t.dtype() == DType.F32 || t.dtype() == DType.F64)) {
            fillContiguous(t, next);
            return;
        }
        int[] shape = t.shape();
        int[] idx = new int[shape.length];
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            t.writeAt(t.elementOffset(idx), next.getAsDouble());
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }
}
