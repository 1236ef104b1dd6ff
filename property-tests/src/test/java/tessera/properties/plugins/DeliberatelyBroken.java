package tessera.properties.plugins;

/**
 * Marks a test-only layer provider whose gradient is wrong on purpose (mutation tests): the gradient-check suite
 * over all registered layers leaves it out, and {@code MutationTest} asserts that the checker catches it.
 */
public interface DeliberatelyBroken {
    /** The bug, in words. */
    String bug();

    /** The tensor the bug shows up in: "input" or a parameter name. */
    String affectedTensor();
}
