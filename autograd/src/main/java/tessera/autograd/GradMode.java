package tessera.autograd;

/**
 * Whether operations on the current thread record a graph. Recording is on by default; inside
 * {@code try (var off = GradMode.off()) { ... }} nothing is recorded (inference), and no backward state is kept.
 */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[]{true});

    private final boolean previous;

    private GradMode(boolean enable) {
        boolean[] flag = ENABLED.get();
        previous = flag[0];
        flag[0] = enable;
    }

    /** Turns recording off until the returned scope closes. */
    public static GradMode off() { return new GradMode(false); }

    /** Turns recording on until the returned scope closes (e.g. inside an outer {@link #off()}). */
    public static GradMode on() { return new GradMode(true); }

    public static boolean isEnabled() { return ENABLED.get()[0]; }

    @Override
    public void close() { ENABLED.get()[0] = previous; }
}
