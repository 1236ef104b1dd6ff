package tessera.autograd;

import java.util.Arrays;
import java.util.function.Supplier;
import tessera.memory.Tensor;

/**
 * A forward + backward pass recorded once and replayed: the graph, its tensors and its backward rules are kept, and
 * each {@link #run} recomputes every op's output in place, in the recorded order, then runs the backward pass over
 * the same graph into the same gradient tensors. A replay builds no graph and allocates nothing on the Java heap or
 * off it (the eager step builds a graph of Variables, Nodes and rule closures, and scope tensors, every time).
 * <pre>{@code
 * Tensor x = ..., labels = ...;                     // the step reads these: copy each batch into them
 * try (CapturedStep step = CapturedStep.capture(() ->
 *         Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(0)), labels, true, 0))) {
 *     optimizer.step();                             // capture ran the step once: its gradients are there
 *     for (...) {
 *         x.copyFrom(nextImages); labels.copyFrom(nextLabels);
 *         optimizer.zeroGrad();
 *         double loss = step.run();                 // forward + backward, gradients accumulated into the parameters
 *         optimizer.step();
 *     }
 * }
 * }</pre>
 * Each replay computes what an eager step on the same tensors computes, bit for bit: the same kernels on the same
 * shapes in the same order (batch-norm running statistics are updated every run, as eagerly). What the forward
 * function did outside the ops — reading a tensor's values to pick a branch, a layer's own bookkeeping — is not
 * replayed: capture a function whose ops depend on tensor values only through kernels. Every op of the forward pass
 * must declare its forward computation; {@link #capture} names the first that does not (a plugin's
 * {@link Ops#custom} op without one, for one) and runs nothing further. Dropout draws a new mask in every replay: the
 * n-th dropout op from {@link OpSeeds#of}(the replay's seed, n) ({@link #run(long)}), which is what a layer's
 * {@code ForwardContext} gives it eagerly.
 *
 * <p>One run at a time; a step may be run from any thread. {@link #close} frees its tensors.
 */
public final class CapturedStep implements AutoCloseable {
    private final Scope scope;
    private final StepTape tape;
    private final Variable loss;
    private boolean closed;
    /** Replays so far (the default seed of the next one). */
    private long runs;

    private CapturedStep(Scope scope, StepTape tape, Variable loss) {
        this.scope = scope;
        this.tape = tape;
        this.loss = loss;
    }

    /**
     * Runs {@code forward} (which builds the graph up to a scalar loss) and the backward pass once, as an eager step
     * would — parameter gradients accumulate — and keeps both for {@link #run}.
     *
     * @throws IllegalArgumentException if the forward pass used an op that cannot be replayed (named), or returned a
     *                                  value that is not a scalar depending on a parameter
     */
    public static CapturedStep capture(Supplier<Variable> forward) {
        if (forward == null) throw new IllegalArgumentException("forward must not be null");
        StepTape tape = new StepTape();
        Scope scope = Scope.detached(tape);
        boolean ok = false;
        scope.enter();
        try {
            Variable loss = forward.get();
            if (loss == null) throw new IllegalArgumentException("the captured forward function returned null");
            if (tape.notReplayable() != null) {
                throw new IllegalArgumentException("cannot capture the step: op '" + tape.notReplayable() + "' has no "
                        + "forward computation to replay (ops that do: " + tape.forwardOps() + ")");
            }
            if (loss.value().numel() != 1 || !loss.requiresGrad()) {
                throw new IllegalArgumentException("the captured forward function must return a scalar loss that depends "
                        + "on a parameter, got shape " + Arrays.toString(loss.shape())
                        + (loss.requiresGrad() ? "" : " with no gradient"));
            }
            tape.beginCaptureBackward();
            loss.backward();
            tape.endCapture();
            ok = true;
            return new CapturedStep(scope, tape, loss);
        } finally {
            scope.exit();
            if (!ok) scope.closeDetached();
        }
    }

    /**
     * Recomputes the forward pass from the current values of the tensors it was captured with (inputs, labels,
     * parameters) and backpropagates: parameter gradients accumulate as {@link Variable#backward()} does. Returns the
     * loss. Stochastic ops (dropout) draw from the number of this run (0, 1, 2, …): see {@link #run(long)}.
     */
    public synchronized double run() { return run(runs); }

    /**
     * As {@link #run()}, with stochastic ops (dropout) seeded from {@code seed}: the n-th draws from
     * {@link OpSeeds#of}(seed, n), as the eager step does whose layers take their seeds from a
     * {@code ForwardContext(seed)} — the same masks, so the same bits (a training loop passes its step's seed).
     */
    public synchronized double run(long seed) {
        if (closed) throw new IllegalStateException("the captured step is closed");
        runs++;
        scope.enter();
        boolean ok = false;
        try {
            tape.replayForward(seed);
            loss.backward();
            tape.endReplay();
            ok = true;
            return loss.value().item();
        } finally {
            if (!ok) tape.abort();
            scope.exit();
        }
    }

    /** The loss of the capture (its value is the last run's). */
    public Variable loss() { return loss; }

    /** Off-heap bytes the step holds (activations, saved tensors and gradients of one step). */
    public long bytes() { return scope.bytes(); }

    /** Frees the step's tensors; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        scope.closeDetached();
    }
}
