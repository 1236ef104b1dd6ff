package tessera.kernels.pool;

/**
 * What a 2-d pooling window computes.
 * <ul>
 *   <li>{@link #MAX}: the largest value (NaN propagates, first occurrence wins ties, as PyTorch); the flat index of
 *       the winner can be returned for backward and max-unpooling.</li>
 *   <li>{@link #AVG}: the mean; the divisor follows PyTorch's {@code avg_pool2d} ({@code count_include_pad}).</li>
 *   <li>{@link #L2}: {@code sqrt(Σ x²)} over the window taps inside the input (LpPool with p = 2, no divisor).</li>
 * </ul>
 */
public enum PoolType { MAX, AVG, L2 }
