package tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Float32 global average and global max of one plane (vectorized), with their gradients. */
final class F32GlobalPool {
    private static final VectorSpecies<Float> SP = F32PoolForward.SP;
    private static final VectorSpecies<Integer> ISP = F32PoolForward.ISP;
    private static final int L = F32PoolForward.L;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(NO);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(NO);

    private F32GlobalPool() {}

    /** Mean of {@code count} floats at {@code xb}: four vector accumulators, lanes reduced once. */
    static float mean(MemorySegment x, long xb, int count) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= count; i += 4 * L) {
            long b = xb + i * 4L;
            a0 = a0.add(FloatVector.fromMemorySegment(SP, x, b, NO));
            a1 = a1.add(FloatVector.fromMemorySegment(SP, x, b + L * 4L, NO));
            a2 = a2.add(FloatVector.fromMemorySegment(SP, x, b + 2 * L * 4L, NO));
            a3 = a3.add(FloatVector.fromMemorySegment(SP, x, b + 3 * L * 4L, NO));
        }
        for (; i + L <= count; i += L) a0 = a0.add(FloatVector.fromMemorySegment(SP, x, xb + i * 4L, NO));
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float sum = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < count; i++) sum += x.get(F, xb + i * 4L);
        return sum / count;
    }

    /**
     * Maximum of {@code count} floats at {@code xb} written to y, its position to idx (nullable). Lane-wise
     * "greater or NaN" keeps each lane's first maximum (last NaN); lanes are then merged so that the plane's first
     * maximum (or last NaN) wins, as PyTorch's scan.
     */
    static void max(MemorySegment x, long xb, int count, MemorySegment y, long yb, MemorySegment idx, long ib) {
        float bestValue = Float.NEGATIVE_INFINITY;
        long best = 0;
        int i = 0;
        if (count >= L) {
            FloatVector m = FloatVector.fromMemorySegment(SP, x, xb, NO);
            IntVector lanes = IntVector.zero(ISP).addIndex(1);
            IntVector mi = lanes;
            for (i = L; i + L <= count; i += L) {
                FloatVector v = FloatVector.fromMemorySegment(SP, x, xb + i * 4L, NO);
                VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
                m = m.blend(v, take);
                mi = mi.blend(lanes.add(i), take.cast(ISP));
            }
            VectorMask<Float> nan = m.test(VectorOperators.IS_NAN);
            if (nan.anyTrue()) {
                bestValue = Float.NaN;
                best = mi.reduceLanes(VectorOperators.MAX, nan.cast(ISP));
            } else {
                bestValue = m.reduceLanes(VectorOperators.MAX);
                best = mi.reduceLanes(VectorOperators.MIN, m.compare(VectorOperators.EQ, bestValue).cast(ISP));
            }
        } else {
            bestValue = x.get(F, xb);
            i = 1;
        }
        for (; i < count; i++) {
            float v = x.get(F, xb + i * 4L);
            if (v > bestValue || Float.isNaN(v)) {
                bestValue = v;
                best = i;
            }
        }
        y.set(F, yb, bestValue);
        if (idx != null) idx.set(I64, ib, best);
    }

    /** dx plane = dy/count. */
    static void meanBackward(float dy, int count, MemorySegment dx, long dxb) {
        F32PoolBackward.fill(dx, dxb, count, dy / count);
    }

    /** dx plane = 0 except dx[at] = dy. */
    static void maxBackward(long at, float dy, int count, MemorySegment dx, long dxb) {
        F32PoolBackward.zero(dx, dxb, count);
        dx.set(F, dxb + at * 4, dy);
    }
}
