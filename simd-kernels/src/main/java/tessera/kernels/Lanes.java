package tessera.kernels;

/**
 * Deterministic horizontal sums. {@code FloatVector.reduceLanes(ADD)} leaves the order of the lane additions
 * unspecified, and on HotSpot it differs between interpreted and JIT-compiled code, so a kernel could return results
 * that differ in the last bit before and after warm-up. Kernels sum lanes with {@link #sum}, always in lane order.
 */
public final class Lanes {
    private Lanes() {}

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[64]);

    /**
     * A per-thread array of 64 floats for {@code v.intoArray(scratch(), 0)} right before
     * {@link #sum(float[], int, int)}. Kernels store their vector themselves instead of passing it to a helper: the
     * JDK's vector methods are always inlined, a helper of ours only while C2's inlining budget lasts, and a vector
     * passed across a call that is not inlined is boxed on the heap. (A {@code sum(FloatVector)} helper did that in the
     * batch norm's backward of ResNet-18 — its loops, compiled for planes of 49 to 3,136 floats, left no budget —
     * 32,000 boxed vectors, 3 MB, per training step.) Callers do not keep data in it across calls.
     */
    public static float[] scratch() { return SCRATCH.get(); }

    /** The sum of {@code lanes[from, from + n)}, added left to right. */
    public static float sum(float[] lanes, int from, int n) {
        float s = 0f;
        for (int i = from; i < from + n; i++) s += lanes[i];
        return s;
    }
}
