package tessera.onnx.infer;

import java.util.List;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * One thread's binding of a {@link Specialization}: the activation block, a tensor view per value and a runnable
 * per step, all created once, so that {@link #run} allocates nothing. Confined to one thread at a time.
 */
final class ExecutionContext implements AutoCloseable {
    final Specialization spec;
    private final TensorArena arena = new TensorArena();
    private final Tensor[] views;
    private final Runnable[] steps;
    private final String[] stepNodes;
    private final DataOps.StridedCopy[] inputCopies, outputCopies;
    private Tensor[] boundInputs, boundOutputs;

    ExecutionContext(Specialization spec) {
        this.spec = spec;
        var block = arena.allocateBytes(Math.max(64, spec.activationBytes));
        List<Specialization.Value> vals = spec.values;
        views = new Tensor[vals.size()];
        for (int i = 0; i < views.length; i++) {
            Specialization.Value v = vals.get(i);
            if (v.constant != null) {
                views[i] = v.constant;
            } else {
                Specialization.Value root = vals.get(v.root);
                views[i] = Tensor.wrap(block, v.dtype, root.offset / v.dtype.byteSize(), v.shape);
            }
        }
        steps = new Runnable[spec.steps.size()];
        stepNodes = new String[steps.length];
        for (int s = 0; s < steps.length; s++) {
            steps[s] = spec.steps.get(s).binder().bind(views);
            stepNodes[s] = spec.steps.get(s).node();
        }
        inputCopies = new DataOps.StridedCopy[spec.inputIds.length];
        outputCopies = new DataOps.StridedCopy[spec.outputIds.length];
    }

    long activationBytes() { return spec.activationBytes; }

    /** Runs with {@code inputs} (shapes already matched); writes each output into {@code outputs[k]}. */
    /** Per-thread heap allocation counter of the profiler (HotSpot's ThreadMXBean extension). */
    private static final com.sun.management.ThreadMXBean HEAP =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    void run(Tensor[] inputs, Tensor[] outputs) { run(inputs, outputs, null, null); }

    /**
     * As {@link #run(Tensor[], Tensor[])}; when {@code stepNanos} is not null, adds each step's wall time (ns) to
     * {@code stepNanos[step]} and the bytes it allocated on the Java heap from the calling thread to
     * {@code stepBytes[step]} (one slot per step of {@link #spec}).
     */
    void run(Tensor[] inputs, Tensor[] outputs, long[] stepNanos, long[] stepBytes) {
        for (int i = 0; i < inputs.length; i++) {
            if (boundInputs == null || boundInputs[i] != inputs[i] || !inputs[i].isAlive()) rebindInputs(inputs);
        }
        for (DataOps.StridedCopy c : inputCopies) c.run();
        for (int s = 0; s < steps.length; s++) {
            try {
                if (stepNanos == null) {
                    steps[s].run();
                } else {
                    long b0 = HEAP.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
                    steps[s].run();
                    stepNanos[s] += System.nanoTime() - t0;
                    stepBytes[s] += HEAP.getCurrentThreadAllocatedBytes() - b0;
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException("inference failed at node '" + stepNodes[s] + "': " + e.getMessage(), e);
            }
        }
        for (int k = 0; k < outputs.length; k++) {
            if (boundOutputs == null || boundOutputs[k] != outputs[k]) rebindOutputs(outputs);
            outputCopies[k].run();
        }
    }

    private void rebindInputs(Tensor[] inputs) {
        for (int i = 0; i < inputs.length; i++) inputCopies[i] = new DataOps.StridedCopy(inputs[i], views[spec.inputIds[i]]);
        boundInputs = inputs.clone();
    }

    private void rebindOutputs(Tensor[] outputs) {
        for (int k = 0; k < outputs.length; k++) {
            Tensor o = outputs[k];
            Tensor src = views[spec.outputIds[k]];
            if (o.dtype() != DType.F32 && src.dtype() == DType.F32) throw new IllegalArgumentException("output " + k + " must be float32, got " + o.dtype());
            outputCopies[k] = new DataOps.StridedCopy(src, o);
        }
        boundOutputs = outputs.clone();
    }

    @Override
    public void close() { arena.close(); }
}
