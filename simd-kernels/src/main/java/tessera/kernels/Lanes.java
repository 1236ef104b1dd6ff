package tessera.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Deterministic horizontal sums. {@code FloatVector.reduceLanes(ADD)} leaves the order of the lane additions
 * unspecified, and on HotSpot it differs between interpreted and JIT-compiled code, so a kernel could return results
 * that differ in the last bit before and after warm-up. Kernels sum lanes with {@link #sum}, always in lane order.
 */
public final class Lanes {
    private Lanes() {}

    /** v[0] + v[1] + … + v[n−1], added left to right. */
    public static float sum(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /**
     * The same sum of lanes already stored in {@code lanes} (by {@code v.intoArray(lanes, 0)}): for large kernels,
     * where passing the vector to {@link #sum(FloatVector)} across a call C2 does not inline would box it.
     */
    public static float sum(float[] lanes) {
        return sum(lanes, 0, lanes.length);
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[64]);

    /**
     * A per-thread array of 64 floats for {@code v.intoArray(scratch(), 0)} before {@link #sum(float[], int, int)}: for
     * kernels called a few times per step, which C2 compiles after {@link #sum(FloatVector)} has grown too big to
     * inline into them (passing the vector would then box it on the heap).
     */
    public static float[] scratch() { return SCRATCH.get(); }

    /** The sum of {@code lanes[from, from + n)}, added left to right. */
    public static float sum(float[] lanes, int from, int n) {
        float s = 0f;
        for (int i = from; i < from + n; i++) s += lanes[i];
        return s;
    }
}
