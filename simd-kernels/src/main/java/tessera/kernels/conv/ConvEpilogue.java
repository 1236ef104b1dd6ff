package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;

/**
 * Fused convolution output epilogue on one contiguous run of an output plane (still in cache):
 * {@code y[i] = act(y[i] + bias + residual[i])}. IDENTITY, RELU, LEAKY_RELU and CLIP are vectorized; the other
 * activations are computed per element in float64 and rounded (PyTorch semantics, see {@link ConvReference#activate}).
 */
final class ConvEpilogue {
    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private ConvEpilogue() {}

    /** Applies bias, residual (null = none) and activation to y[yo, yo+len) (float indices). */
    static void apply(MemorySegment y, long yo, int len, float bias, MemorySegment res, long ro, ActivationFn act) {
        Activation kind = act.kind();
        if (kind == Activation.IDENTITY || kind == Activation.RELU || kind == Activation.LEAKY_RELU) {
            float slope = kind == Activation.RELU ? 0f : act.a();
            boolean leaky = !act.isIdentity();
            applyLinear(y, yo, len, bias, res, ro, leaky, slope, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
        } else if (kind == Activation.CLIP) {
            applyLinear(y, yo, len, bias, res, ro, false, 0f, act.a(), act.b());
        } else {
            for (int i = 0; i < len; i++) {
                float v = y.getAtIndex(F, yo + i) + bias;
                if (res != null) v += res.getAtIndex(F, ro + i);
                y.setAtIndex(F, yo + i, (float) ConvReference.activate(act, v));
            }
        }
    }

    /** y = v &lt; 0 ? slope·v : v when {@code leaky}, then min(max(v, lo), hi), for v = y + bias + residual. */
    private static void applyLinear(MemorySegment y, long yo, int len, float bias, MemorySegment res, long ro,
                                    boolean leaky, float slope, float lo, float hi) {
        boolean clamp = lo != Float.NEGATIVE_INFINITY || hi != Float.POSITIVE_INFINITY;
        FloatVector vb = FloatVector.broadcast(SP, bias);
        int i = 0;
        for (; i <= len - VL; i += VL) {
            FloatVector v = FloatVector.fromMemorySegment(SP, y, (yo + i) * 4, NO).add(vb);
            if (res != null) v = v.add(FloatVector.fromMemorySegment(SP, res, (ro + i) * 4, NO));
            if (leaky) {
                VectorMask<Float> neg = v.compare(VectorOperators.LT, 0f);
                v = v.blend(v.mul(slope), neg);
            }
            if (clamp) v = v.max(lo).min(hi);
            v.intoMemorySegment(y, (yo + i) * 4, NO);
        }
        for (; i < len; i++) {
            float v = y.getAtIndex(F, yo + i) + bias;
            if (res != null) v += res.getAtIndex(F, ro + i);
            if (leaky && v < 0) v *= slope;
            if (clamp) v = Math.min(Math.max(v, lo), hi);
            y.setAtIndex(F, yo + i, v);
        }
    }

    /** Sets floats [off, off+len) of s to zero without allocating (segment slices would). */
    static void zero(MemorySegment s, long off, long len) {
        FloatVector z = FloatVector.zero(SP);
        long i = 0;
        for (; i <= len - VL; i += VL) z.intoMemorySegment(s, (off + i) * 4, NO);
        for (; i < len; i++) s.setAtIndex(F, off + i, 0f);
    }
}
