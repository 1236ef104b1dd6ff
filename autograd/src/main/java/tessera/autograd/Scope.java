package tessera.autograd;

import java.util.ArrayDeque;
import tessera.memory.BlockCache;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * The lifetime of intermediate tensors: every op output and every non-leaf gradient produced on this thread while a
 * scope is open is allocated in the scope's arena and freed, all at once, when it closes. A training step is one
 * scope, so off-heap use does not grow from step to step:
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Variable loss = Ops.crossEntropy(model.forward(x), labels, true, 0.0);
 *     loss.backward();          // parameter gradients live in the parameters, not the scope
 *     optimizer.step();
 * }                             // activations, graph state and temporaries are freed here
 * }</pre>
 * Scopes nest; the innermost open scope on the thread is used. A closed scope's memory is kept for the next scopes'
 * allocations of the same sizes ({@link BlockCache}: at most one scope's worth; {@code BlockCache.shared().trim()}
 * frees it), and is never reachable through the closed scope's tensors.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    /** Recycling: a step's blocks serve the next step's allocations of the same sizes ({@link BlockCache}). */
    private final TensorArena arena = new TensorArena(BlockCache.shared());
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private Scope() {}

    /** Opens a scope on the current thread. */
    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or an IllegalStateException explaining how to open one. */
    public static Scope current() {
        Scope s = STACK.get().peek();
        if (s == null) {
            throw new IllegalStateException("no autograd Scope is open on thread '" + Thread.currentThread().getName()
                    + "': wrap the computation in try (Scope s = Scope.open()) { ... } so its intermediate tensors are freed deterministically");
        }
        return s;
    }

    /** A zero-filled tensor in the current scope. */
    public static Tensor alloc(DType type, int... shape) { return current().arena.allocate(type, shape); }

    /**
     * A tensor in the current scope whose contents are unspecified (a recycled block's previous data): only for an
     * output the caller overwrites entirely, e.g. a kernel documented to overwrite its output. Saves the zero fill.
     */
    public static Tensor allocUninitialized(DType type, int... shape) {
        return current().arena.allocateUninitialized(type, shape);
    }

    /** A zero-filled tensor in the current scope with {@code like}'s dtype and shape, allocating no shape or stride arrays. */
    public static Tensor allocLike(Tensor like) { return current().arena.allocateLike(like); }

    /** As {@link #allocUninitialized} with {@code like}'s dtype and shape, allocating no shape or stride arrays. */
    public static Tensor allocUninitializedLike(Tensor like) { return current().arena.allocateUninitializedLike(like); }

    /** Off-heap bytes held by this scope. */
    public long bytes() { return arena.bytes(); }

    /** Frees every tensor allocated in this scope. Must be closed on the thread that opened it, innermost first. */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("Scope must be closed on the thread that opened it (" + owner.getName() + ")");
        }
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("Scopes must be closed innermost first");
        }
        stack.pop();
        closed = true;
        arena.close();
    }
}
