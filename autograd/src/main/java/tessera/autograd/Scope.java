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
        if (currentTape() != null) {
            throw new IllegalStateException("a Scope cannot be opened inside a captured step: the ops in it would not be "
                    + "recorded for the replays, and its tensors would be freed before them");
        }
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
    public static Tensor alloc(DType type, int... shape) {
        Scope s = current();
        Tensor t = s.tape == null ? null : s.tape.reissue(type, shape, null, true);
        return t != null ? t : s.kept(s.arena.allocate(type, shape), true);
    }

    /**
     * A tensor in the current scope whose contents are unspecified (a recycled block's previous data): only for an
     * output the caller overwrites entirely, e.g. a kernel documented to overwrite its output. Saves the zero fill.
     */
    public static Tensor allocUninitialized(DType type, int... shape) {
        Scope s = current();
        Tensor t = s.tape == null ? null : s.tape.reissue(type, shape, null, false);
        return t != null ? t : s.kept(s.arena.allocateUninitialized(type, shape), false);
    }

    /** A zero-filled tensor in the current scope with {@code like}'s dtype and shape, allocating no shape or stride arrays. */
    public static Tensor allocLike(Tensor like) {
        Scope s = current();
        Tensor t = s.tape == null ? null : s.tape.reissue(null, null, like, true);
        return t != null ? t : s.kept(s.arena.allocateLike(like), true);
    }

    /** As {@link #allocUninitialized} with {@code like}'s dtype and shape, allocating no shape or stride arrays. */
    public static Tensor allocUninitializedLike(Tensor like) {
        Scope s = current();
        Tensor t = s.tape == null ? null : s.tape.reissue(null, null, like, false);
        return t != null ? t : s.kept(s.arena.allocateUninitializedLike(like), false);
    }

    private Tensor kept(Tensor t, boolean zero) {
        if (tape != null) tape.keep(t, zero);
        return t;
    }

    // ------------------------------------------------------------------ captured steps (CapturedStep)

    /** The capture this scope belongs to, or null (an ordinary scope). */
    private StepTape tape;
    /** Whether this scope is on a thread's stack (a captured step's scope is only while it runs). */
    private boolean entered;

    /** A scope for a {@link CapturedStep}: not on any thread's stack until {@link #enter}; records into {@code tape}. */
    static Scope detached(StepTape tape) {
        Scope s = new Scope();
        s.tape = tape;
        return s;
    }

    /**
     * Whether a {@link CapturedStep} is being captured or run on this thread: code that computes outside the op
     * table (a layer's inference fast path) must take the ops instead, or a replay would not recompute it.
     */
    public static boolean capturing() { return currentTape() != null; }

    /** The innermost open scope of this thread, or null. */
    static Scope currentOrNull() { return STACK.get().peek(); }

    /** The capture of this thread's innermost scope, or null (none open, or an ordinary one). */
    static StepTape currentTape() {
        Scope s = STACK.get().peek();
        return s == null ? null : s.tape;
    }

    /** Puts a detached scope on the calling thread's stack (innermost). */
    void enter() {
        if (closed) throw new IllegalStateException("the captured step is closed");
        if (entered) throw new IllegalStateException("the captured step is already running (one run at a time)");
        STACK.get().push(this);
        entered = true;
    }

    /** Takes a detached scope off the calling thread's stack again. */
    void exit() {
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("a scope opened inside a captured step was not closed");
        stack.pop();
        entered = false;
    }

    /** Frees a detached scope's tensors. */
    void closeDetached() {
        if (entered) throw new IllegalStateException("a captured step cannot be closed while it runs");
        closed = true;
        arena.close();
    }

    /** Off-heap bytes held by this scope. */
    public long bytes() { return arena.bytes(); }

    /** Frees every tensor allocated in this scope. Must be closed on the thread that opened it, innermost first. */
    @Override
    public void close() {
        if (closed) return;
        if (tape != null) throw new IllegalStateException("a captured step's scope is closed by CapturedStep.close()");
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
