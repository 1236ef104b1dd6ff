package tessera.serve;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import tessera.onnx.batching.BatchListener;
import tessera.onnx.batching.BatcherOptions;
import tessera.onnx.batching.DynamicBatcher;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/** One served model: its session, its dynamic batcher, the shapes it declares and its image preprocessing. */
final class ServedModel implements AutoCloseable {
    private final String name;
    private final InferenceSession session;
    private final DynamicBatcher batcher;
    private final String inputName;
    private final int[] inputShape;
    private final List<String> outputNames;
    private final int[][] outputShapes;
    private final Preprocess preprocess;

    private ServedModel(String name, InferenceSession session, DynamicBatcher batcher, Preprocess preprocess) {
        this.name = name;
        this.session = session;
        this.batcher = batcher;
        this.inputName = session.inputNames().get(0);
        this.inputShape = session.declaredInputShape(0);
        this.outputNames = List.copyOf(session.outputNames());
        this.outputShapes = new int[outputNames.size()][];
        int[] probe = inputShape.clone();
        boolean fixedSample = true;
        for (int d = 0; d < probe.length; d++) {
            if (probe[d] < 0 && d > 0) fixedSample = false;
            if (probe[d] < 0) probe[d] = 1;
        }
        for (int k = 0; k < outputShapes.length; k++) {
            int[] s = fixedSample ? session.outputShape(k, probe) : new int[0];
            if (fixedSample && batcher.batching() && s.length > 0) s[0] = -1;
            outputShapes[k] = s;
        }
        this.preprocess = preprocess;
    }

    static ServedModel load(String name, Path file, SessionOptions sessionOptions, BatcherOptions batcherOptions, String preprocessSpec, BatchListener listener) {
        InferenceSession s = InferenceSession.load(file, sessionOptions);
        try {
            if (s.inputNames().size() != 1) throw new IllegalArgumentException("model '" + name + "' has inputs " + s.inputNames() + "; the server serves models with one input");
            int[] in = s.declaredInputShape(0);
            Preprocess p = null;
            if (in.length == 4 && in[1] > 0 && in[2] > 0 && in[3] > 0) p = Preprocess.parse(preprocessSpec, in[1], in[2]);
            else if (preprocessSpec != null) throw new IllegalArgumentException("model '" + name + "' input " + Arrays.toString(in) + " is not a fixed [N, C, H, W] image; it cannot take --preprocess");
            return new ServedModel(name, s, new DynamicBatcher(s, batcherOptions, listener), p);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    String name() { return name; }

    DynamicBatcher batcher() { return batcher; }

    String inputName() { return inputName; }

    int[] inputShape() { return inputShape.clone(); }

    List<String> outputNames() { return outputNames; }

    int[] outputShape(int k) { return outputShapes[k].clone(); }

    /** Null when the model's input is not a fixed-size image. */
    Preprocess preprocess() { return preprocess; }

    int queueDepth() { return batcher.queueDepth(); }

    boolean queueFull() { return batcher.queueDepth() >= batcher.options().queueCapacity(); }

    /** Finishes the accepted requests, then frees the model. */
    @Override
    public void close() {
        batcher.close();
        session.close();
    }
}
