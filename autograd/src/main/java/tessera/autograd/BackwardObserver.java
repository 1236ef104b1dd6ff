package tessera.autograd;

import tessera.memory.Tensor;

/**
 * Sees the steps of the backward passes a thread runs while it is installed ({@link #install}): each node's backward
 * function, and each sum of two gradients of one value that the engine forms (op {@link #GRADIENT_SUM}; an
 * {@link AccumulatingBackward} adds a pending gradient within its own step), as a call before and a call after
 * the step, with the op's name and the gradient the step works on (the node's output gradient; the sum). For
 * profilers — bench's {@code TrainStepProfileProbe} times a training step's backward by op with one — and tests.
 * With none installed, a pass checks one thread-local.
 */
public interface BackwardObserver {
    /** The op name of the sum of two gradients of one value. */
    String GRADIENT_SUM = "gradient sum";

    /** Before the step {@code op} on {@code gradient}. */
    void before(String op, Tensor gradient);

    /** After the step {@code op} on {@code gradient} (the same gradient as {@link #before}'s). */
    void after(String op, Tensor gradient);

    /**
     * Installs {@code observer} for the backward passes of the calling thread until the returned installation closes;
     * the observer installed before it (if any) then sees them again. Use with try-with-resources.
     */
    static Installation install(BackwardObserver observer) {
        if (observer == null) throw new IllegalArgumentException("backward observer must not be null");
        return Installation.push(observer);
    }

    /** One observer installed on one thread; closing it restores the one installed before it. */
    final class Installation implements AutoCloseable {
        private static final ThreadLocal<Installation> CURRENT = new ThreadLocal<>();
        private final BackwardObserver observer;
        private final Installation outer;

        private Installation(BackwardObserver observer, Installation outer) {
            this.observer = observer;
            this.outer = outer;
        }

        private static Installation push(BackwardObserver observer) {
            Installation i = new Installation(observer, CURRENT.get());
            CURRENT.set(i);
            return i;
        }

        /** The calling thread's installed observer, or null. */
        static BackwardObserver current() {
            Installation i = CURRENT.get();
            return i == null ? null : i.observer;
        }

        @Override
        public void close() {
            if (CURRENT.get() != this) return;
            if (outer == null) CURRENT.remove();
            else CURRENT.set(outer);
        }
    }
}
