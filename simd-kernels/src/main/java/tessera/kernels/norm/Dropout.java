package tessera.kernels.norm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.Ranges;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Inverted-dropout masks: {@code mask[i] = keep(i) ? 1/(1−p) : 0}, for use as {@code y = x ⊙ mask}.
 *
 * <p>Counter-based and seeded: element i (row-major index) is kept when the 24-bit hash {@code h(seed, i) >>> 8}
 * is at least {@code ceil(p·2^24)}, so each element is dropped with probability p (to 2^−24) independently of the
 * others, and the same seed gives the same mask for any thread count, dtype (F32 and F64 masks agree) and species.
 * The hash is two rounds of MurmurHash3's 32-bit finalizer over the index and a SplitMix64-mixed seed.
 * F32 contiguous masks take a Vector API path; others the scalar reference ({@link #keep}).
 */
public final class Dropout {
    private static final VectorSpecies<Integer> I = tessera.kernels.Species.INT;
    private static final VectorSpecies<Float> FS = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    private Dropout() {}

    /** Fills {@code mask} (F32 or F64, any shape) for drop probability {@code 0 <= p <= 1} (p = 1: all zeros). */
    public static void mask(long seed, double p, Tensor mask) {
        TensorArgs.requireFloat("mask", mask);
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("p = " + p + ", expected 0 <= p <= 1");
        long n = mask.numel();
        int threshold = (int) Math.ceil(p * (1 << 24));
        double scale = p >= 1 ? 0 : 1 / (1 - p);
        long mixed = splitMix64(seed);
        int s1 = (int) mixed, s2 = (int) (mixed >>> 32);
        if (mask.dtype() == DType.F32 && mask.isContiguous() && I.length() == FS.length()) {
            MemorySegment ms = mask.segment();
            long mo = TensorArgs.byteOffset(mask);
            int tasks = Ranges.tasks(n);
            if (tasks == 1) {
                maskF32(s1, s2, threshold, (float) scale, ms, mo, 0, n);
                return;
            }
            MaskJob job = MASK_JOB.get(); // reused per thread: a replayed training step allocates nothing
            job.set(s1, s2, threshold, (float) scale, ms, mo, n, tasks);
            try {
                ComputePool.parallelFor(tasks, job);
            } finally {
                job.ms = null;
            }
            return;
        }
        double[] out = new double[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) out[i] = keep(s1, s2, threshold, i) ? scale : 0;
        TensorArgs.store(mask, out);
    }

    /** One range of a mask fill split across the pool. */
    private static final class MaskJob implements java.util.function.IntConsumer {
        int s1, s2, threshold, tasks;
        float scale;
        MemorySegment ms;
        long mo, n;

        void set(int s1, int s2, int threshold, float scale, MemorySegment ms, long mo, long n, int tasks) {
            this.s1 = s1; this.s2 = s2; this.threshold = threshold; this.scale = scale; this.ms = ms; this.mo = mo;
            this.n = n; this.tasks = tasks;
        }

        @Override
        public void accept(int t) {
            maskF32(s1, s2, threshold, scale, ms, mo, Ranges.start(n, tasks, t), Ranges.start(n, tasks, t + 1));
        }
    }

    private static final ThreadLocal<MaskJob> MASK_JOB = ThreadLocal.withInitial(MaskJob::new);

    /** The reference decision for element i. */
    static boolean keep(int s1, int s2, int threshold, long i) {
        int h = fmix32((int) i ^ s1);
        h = fmix32(h ^ ((int) (i >>> 32) * 0x9E3779B9 + s2));
        return (h >>> 8) >= threshold;
    }

    static int fmix32(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    static long splitMix64(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static IntVector fmix32(IntVector h) {
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
        return h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
    }

    /** f32-dropout-mask over elements [from, to); from is a multiple of 64 (vectors never cross a 2^32 boundary). */
    private static void maskF32(int s1, int s2, int threshold, float scale, MemorySegment ms, long mo, long from, long to) {
        IntVector iota = IntVector.zero(I).addIndex(1);
        FloatVector keepV = FloatVector.broadcast(FS, scale), zero = FloatVector.zero(FS);
        int l = I.length();
        for (long i = from; i < to; i += l) {
            IntVector idx = iota.add((int) i);
            IntVector h = fmix32(idx.lanewise(VectorOperators.XOR, s1));
            h = fmix32(h.lanewise(VectorOperators.XOR, (int) (i >>> 32) * 0x9E3779B9 + s2));
            VectorMask<Integer> keep = h.lanewise(VectorOperators.LSHR, 8).compare(VectorOperators.GE, threshold);
            FloatVector v = zero.blend(keepV, keep.cast(FS));
            if (i + l <= to) {
                v.intoMemorySegment(ms, mo + 4 * i, NO);
            } else {
                v.intoMemorySegment(ms, mo + 4 * i, NO, FS.indexInRange(i, to));
            }
        }
    }
}
