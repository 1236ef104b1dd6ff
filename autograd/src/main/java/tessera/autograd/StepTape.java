package tessera.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * What a {@link CapturedStep} keeps of its capture: each op's forward computation in the order the ops ran, and the
 * tensors its backward pass allocated, in order, to be handed out again to the same requests when the step is
 * replayed (the graph, and so the sequence of requests, is the same every time). Belongs to one {@link Scope}.
 */
final class StepTape {
    private enum State { CAPTURE_FORWARD, CAPTURE_BACKWARD, IDLE, REPLAY_FORWARD, REPLAY_BACKWARD }

    private State state = State.CAPTURE_FORWARD;
    private final List<Runnable> forwardList = new ArrayList<>();
    private Runnable[] forwards;
    /** The ops recorded with a forward computation while capturing (named when a capture is refused). */
    private final List<String> forwardOps = new ArrayList<>();
    /** The first op recorded without a forward computation (it cannot be replayed), or null. */
    private String notReplayable;
    private final List<Tensor> backwardList = new ArrayList<>();
    private final List<Boolean> zeroedList = new ArrayList<>();
    private Tensor[] backwardTensors;
    private boolean[] zeroed;
    private int next;

    /** An op recorded while capturing: its forward (null: it has none, so the step cannot be replayed). */
    void recordForward(String op, Runnable forward) {
        if (state != State.CAPTURE_FORWARD) {
            throw new IllegalStateException("op '" + op + "' recorded during the " + describe() + " of a captured step: "
                    + "a captured step's backward rules must not record ops");
        }
        if (forward == null) {
            if (notReplayable == null) notReplayable = op;
            return;
        }
        forwardList.add(forward);
        forwardOps.add(op);
    }

    String notReplayable() { return notReplayable; }

    void beginCaptureBackward() { state = State.CAPTURE_BACKWARD; }

    void endCapture() {
        forwards = forwardList.toArray(new Runnable[0]);
        backwardTensors = backwardList.toArray(new Tensor[0]);
        zeroed = new boolean[zeroedList.size()];
        for (int i = 0; i < zeroed.length; i++) zeroed[i] = zeroedList.get(i);
        forwardList.clear();
        forwardOps.clear();
        backwardList.clear();
        zeroedList.clear();
        state = State.IDLE;
    }

    /** The seed of the replay in progress and the stochastic ops it has run ({@link #seedFor}). */
    private long runSeed, stochasticOps;

    /**
     * The seed a stochastic op (dropout) draws from: its own while capturing (as eagerly); while replaying
     * {@link OpSeeds#of}(the replay's seed, its ordinal among the step's stochastic ops) — what an eager step seeded
     * the same way (a layer's {@code ForwardContext}) gives it, so the same masks.
     */
    long seedFor(long opSeed) {
        return state == State.REPLAY_FORWARD ? OpSeeds.of(runSeed, ++stochasticOps) : opSeed;
    }

    /** Runs the captured forward computations in order, seeded by {@code seed}; scope allocations in them are an error. */
    void replayForward(long seed) {
        runSeed = seed;
        stochasticOps = 0;
        state = State.REPLAY_FORWARD;
        Runnable[] fs = forwards;
        for (int i = 0; i < fs.length; i++) fs[i].run();
        next = 0;
        state = State.REPLAY_BACKWARD;
    }

    /** After the replayed backward: every tensor of the capture's backward was asked for again. */
    void endReplay() {
        state = State.IDLE;
        if (next != backwardTensors.length) {
            throw new IllegalStateException("the replayed backward allocated " + next + " tensors where its capture "
                    + "allocated " + backwardTensors.length + ": the graph changed since it was captured");
        }
    }

    /** Back to idle after a failed replay (the next one starts from the beginning). */
    void abort() { state = state == State.CAPTURE_FORWARD || state == State.CAPTURE_BACKWARD ? state : State.IDLE; }

    /**
     * A scope allocation in this tape's scope: null while capturing the forward pass (the caller allocates as usual and
     * the tensor lives as long as the step), the tensor handed out at this point of the capture while replaying the
     * backward pass (zero-filled again when it was asked for zeroed).
     */
    Tensor reissue(DType type, int[] shape, Tensor like, boolean zero) {
        switch (state) {
            case CAPTURE_FORWARD, CAPTURE_BACKWARD, IDLE -> { return null; }
            case REPLAY_FORWARD -> throw new IllegalStateException("a captured op's forward computation allocated scope "
                    + "memory while replayed (" + type + " " + Arrays.toString(shape == null ? like.shape() : shape)
                    + "): forward computations must only run kernels on the tensors of their capture");
            default -> { }
        }
        if (next >= backwardTensors.length) {
            throw new IllegalStateException("the replayed backward allocated more tensors than its capture ("
                    + backwardTensors.length + "): the graph changed since it was captured");
        }
        Tensor t = backwardTensors[next];
        boolean match = like != null ? t.dtype() == like.dtype() && t.sameShapeAs(like)
                : t.dtype() == type && hasShape(t, shape);
        if (!match || zeroed[next] != zero) {
            throw new IllegalStateException("the replayed backward's allocation " + next + " asked for "
                    + (like != null ? like.dtype() + " " + Arrays.toString(like.shape()) : type + " " + Arrays.toString(shape))
                    + (zero ? " zeroed" : "") + " where its capture got " + t.dtype() + " " + Arrays.toString(t.shape())
                    + (zeroed[next] ? " zeroed" : "") + ": the graph changed since it was captured");
        }
        next++;
        if (zero) t.fill(0);
        return t;
    }

    private static boolean hasShape(Tensor t, int[] shape) {
        if (t.rank() != shape.length) return false;
        for (int i = 0; i < shape.length; i++) if (t.dim(i) != shape[i]) return false;
        return true;
    }

    /** A tensor the capture's backward pass allocated (kept for the replays). */
    void keep(Tensor t, boolean zero) {
        if (state != State.CAPTURE_BACKWARD) return;
        backwardList.add(t);
        zeroedList.add(zero);
    }

    /** The ops recorded so far with a forward computation, in order (diagnostics while capturing). */
    List<String> forwardOps() { return List.copyOf(forwardOps); }

    private String describe() {
        return switch (state) {
            case CAPTURE_BACKWARD -> "backward pass of the capture";
            case REPLAY_FORWARD -> "replayed forward pass";
            case REPLAY_BACKWARD -> "replayed backward pass";
            default -> "idle time";
        };
    }
}
