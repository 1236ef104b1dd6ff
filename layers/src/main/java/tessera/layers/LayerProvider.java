package tessera.layers;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The service interface through which layers are found ({@link java.util.ServiceLoader}; list implementations in
 * {@code META-INF/services/tessera.layers.LayerProvider}). A third-party jar on the classpath adds layers with no
 * change to the library.
 */
public interface LayerProvider {
    /** The type name used in specs, e.g. {@code Conv2d}. Unique across the registry. */
    String name();

    /** One line saying what the layer computes. */
    String description();

    /** The argument schema (names, types, ranges, defaults). */
    List<ArgSpec> arguments();

    /** Creates the layer for validated {@code args} and the context's input shape (throws {@link ShapeException}). */
    Layer create(Args args, BuildContext context);

    /**
     * A valid per-sample input shape for these arguments, for property-based gradient checks; small sizes.
     * Default: a 3×5×5 image. Providers whose layers need specific shapes override it.
     */
    default int[] sampleInputShape(Args args, SplittableRandom random) {
        return new int[]{1 + random.nextInt(3), 3 + random.nextInt(4), 3 + random.nextInt(4)};
    }

    /** False for layers whose output is not differentiable or that need special inputs (excluded from gradient checks). */
    default boolean gradientCheckable() { return true; }
}
