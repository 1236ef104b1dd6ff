package tessera.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every float32 kernel uses: {@link FloatVector#SPECIES_PREFERRED} (the widest the CPU and
 * {@code -XX:MaxVectorSize} allow), unless {@code -Dtessera.vector.bits=128|256|512} forces a width. Forcing a
 * width wider than the hardware's runs correctly but slowly (the Vector API falls back to scalar Java code); the
 * test suite does it to run the kernels on 512-bit vectors on machines without AVX-512.
 */
public final class Species {
    /** Float species of the kernels. */
    public static final VectorSpecies<Float> FLOAT = choose();
    /** Int species of the same shape (same lane count as {@link #FLOAT}). */
    public static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, FLOAT.vectorShape());

    private Species() {}

    private static VectorSpecies<Float> choose() {
        String v = System.getProperty("tessera.vector.bits", "").trim();
        if (v.isEmpty() || v.equals("0")) return FloatVector.SPECIES_PREFERRED;
        int bits;
        try {
            bits = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dtessera.vector.bits=" + v + ": expected 128, 256 or 512");
        }
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("-Dtessera.vector.bits=" + v + ": expected 128, 256 or 512");
        }
        return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    /** True if the width was forced by {@code -Dtessera.vector.bits}. */
    public static boolean forced() { return FLOAT != FloatVector.SPECIES_PREFERRED; }

    /** Int species that {@link IntVector#SPECIES_PREFERRED} would be for the kernels' shape. */
    public static VectorSpecies<Integer> ints() { return INT; }
}
