package tessera.layers;

import java.util.Arrays;
import java.util.function.Supplier;
import tessera.memory.DType;

/**
 * The most parameter and buffer elements one model build may allocate, checked before each allocation, so that a
 * spec asking for an absurd model (say a Linear layer with 2·10^9 inputs) fails with a {@link SpecException} instead
 * of exhausting memory. {@link Model#build} sets it; layers built outside a model build are not limited.
 */
final class ParameterBudget {
    private static final ThreadLocal<long[]> LEFT = new ThreadLocal<>();

    private ParameterBudget() {}

    /** Runs {@code build} with at most {@code maxElements} parameter and buffer elements allowed on this thread. */
    static <T> T within(long maxElements, Supplier<T> build) {
        long[] outer = LEFT.get();
        LEFT.set(new long[] {maxElements, maxElements});
        try {
            return build.get();
        } finally {
            if (outer == null) LEFT.remove();
            else LEFT.set(outer);
        }
    }

    /** Takes {@code shape}'s elements from the budget, or throws a {@link SpecException} naming the tensor. */
    static void take(String what, DType dtype, int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new SpecException(what + " would have shape " + Arrays.toString(shape) + " with a negative dimension");
            n = d == 0 || n == 0 ? 0 : (n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d);
        }
        long[] left = LEFT.get();
        if (left == null) return;
        if (n > left[0]) {
            throw new SpecException(what + " of shape " + Arrays.toString(shape) + " (" + n + " " + dtype + " elements) would take the model past "
                    + left[1] + " parameter and buffer elements, the limit of one model build (-D" + Model.MAX_ELEMENTS_PROPERTY + ")");
        }
        left[0] -= n;
    }
}
