package tessera.autograd;

/**
 * The seed of a step's n-th stochastic op (dropout) from the step's seed: one formula for the eager step (a layer's
 * {@code ForwardContext.nextSeed()}) and a {@link CapturedStep} replay ({@link CapturedStep#run(long)} with the same
 * step seed), so that both draw the same masks.
 */
public final class OpSeeds {
    private OpSeeds() {}

    /** The seed of stochastic op number {@code ordinal} (1, 2, … in the order the ops run) of the step seeded {@code stepSeed}. */
    public static long of(long stepSeed, long ordinal) {
        return stepSeed * 0x9E3779B97F4A7C15L + ordinal * 0xBF58476D1CE4E5B9L;
    }
}
