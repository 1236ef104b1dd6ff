package tessera.spark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;

/**
 * Scores one partition: rows are read in order, converted to samples, gathered into batches of up to
 * {@code batchSize} good rows, run through the executor's shared session, and emitted in their original order
 * with the output, the optional top-k and the error columns appended.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** How the input column is read. */
    enum InputKind { IMAGE, FLOAT_ARRAY, DOUBLE_ARRAY, VECTOR }

    private final ScoringConfig config;
    private final InputKind kind;
    private final int inputIndex;

    PartitionScorer(ScoringConfig config, InputKind kind, int inputIndex) {
        this.config = config;
        this.kind = kind;
        this.inputIndex = inputIndex;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        int threads = threadsForThisTask(config.threadsPerTask());
        InferenceSession session = ExecutorSessions.get(config.modelPath(), threads);
        int[] sample = sampleShape(session, config.sampleShape());
        return new Scored(rows, session, sample);
    }

    /** The intra-op thread count: {@code threadsPerTask}, or {@code spark.task.cpus} when 0; never above {@code spark.task.cpus}. */
    static int threadsForThisTask(int threadsPerTask) {
        TaskContext tc = TaskContext.get();
        int cpus = tc == null ? 1 : Math.max(1, tc.cpus());
        if (threadsPerTask == 0) return cpus;
        if (threadsPerTask > cpus) {
            throw new IllegalArgumentException("threadsPerTask=" + threadsPerTask + " exceeds spark.task.cpus=" + cpus
                    + ": concurrent tasks × intra-op threads would exceed the executor's cores; set spark.task.cpus=" + threadsPerTask
                    + " (fewer concurrent tasks per executor) or lower threadsPerTask");
        }
        return threadsPerTask;
    }

    /** (C, H, W) or whatever the per-sample shape is: the configured one, else the model's declared input shape without the batch. */
    static int[] sampleShape(InferenceSession session, int[] configured) {
        int[] declared = session.declaredInputShape(0);
        if (configured != null) {
            if (configured.length != declared.length - 1) {
                throw new IllegalArgumentException("sampleShape " + Arrays.toString(configured) + " has rank " + configured.length
                        + ", the model's input " + Arrays.toString(declared) + " needs rank " + (declared.length - 1) + " per sample");
            }
            return configured.clone();
        }
        int[] s = Arrays.copyOfRange(declared, 1, declared.length);
        for (int d : s) {
            if (d < 1) {
                throw new IllegalArgumentException("the model's input shape " + Arrays.toString(declared)
                        + " has symbolic dimensions besides the batch; set sampleShape (e.g. C,H,W)");
            }
        }
        return s;
    }

    /** One row's sample values, or the reason it has none. */
    private float[] sampleOf(Row row, int[] shape, int numel) throws BadRowException {
        if (row.isNullAt(inputIndex)) throw new BadRowException("input column '" + config.inputCol() + "' is null");
        float[] v;
        switch (kind) {
            case IMAGE -> {
                if (shape.length != 3) throw new IllegalArgumentException("image inputs need a model input of rank 4 (N,C,H,W), per sample " + Arrays.toString(shape));
                return config.images().apply((byte[]) row.get(inputIndex), shape[0], shape[1], shape[2]);
            }
            case FLOAT_ARRAY -> {
                List<Object> l = row.getList(inputIndex);
                v = new float[l.size()];
                for (int i = 0; i < v.length; i++) {
                    Object o = l.get(i);
                    if (o == null) throw new BadRowException("element " + i + " of '" + config.inputCol() + "' is null");
                    v[i] = (Float) o;
                }
            }
            case DOUBLE_ARRAY -> {
                List<Object> l = row.getList(inputIndex);
                v = new float[l.size()];
                for (int i = 0; i < v.length; i++) {
                    Object o = l.get(i);
                    if (o == null) throw new BadRowException("element " + i + " of '" + config.inputCol() + "' is null");
                    v[i] = (float) (double) (Double) o;
                }
            }
            case VECTOR -> {
                double[] d = ((org.apache.spark.ml.linalg.Vector) row.get(inputIndex)).toArray();
                v = new float[d.length];
                for (int i = 0; i < d.length; i++) v[i] = (float) d[i];
            }
            default -> throw new IllegalStateException(kind.name());
        }
        if (v.length != numel) {
            throw new BadRowException("wrong size: " + v.length + " values, the model takes " + numel + " per sample " + Arrays.toString(shape));
        }
        return v;
    }

    /** Indices of the k largest values, largest first, lower index first among equals. */
    static int[] topK(float[] v, int k) {
        int n = Math.min(k, v.length);
        int[] idx = new int[n];
        boolean[] taken = new boolean[v.length];
        for (int j = 0; j < n; j++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) {
                if (taken[i]) continue;
                if (best < 0 || Float.compare(v[i], v[best]) > 0) best = i;
            }
            taken[best] = true;
            idx[j] = best;
        }
        return idx;
    }

    private final class Scored implements Iterator<Row> {
        private final Iterator<Row> in;
        private final InferenceSession session;
        private final int[] shape;
        private final int numel;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowNumber;

        Scored(Iterator<Row> in, InferenceSession session, int[] shape) {
            this.in = in;
            this.session = session;
            this.shape = shape;
            this.numel = Math.toIntExact(Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b));
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty() && in.hasNext()) fill();
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.poll();
        }

        /** Reads rows until a batch is full (or the partition ends), scores it, queues every row read in order. */
        private void fill() {
            List<Row> pending = new ArrayList<>();
            List<Object> results = new ArrayList<>();   // float[] sample, later float[] output; or String reason
            List<float[]> batch = new ArrayList<>();
            while (batch.size() < config.batchSize() && in.hasNext()) {
                Row r = in.next();
                rowNumber++;
                pending.add(r);
                try {
                    float[] s = sampleOf(r, shape, numel);
                    batch.add(s);
                    results.add(s);
                } catch (BadRowException e) {
                    if (config.failFast()) {
                        throw new IllegalArgumentException("bad row " + rowNumber + " of partition " + partitionId() + describe(r) + ": " + e.getMessage(), e);
                    }
                    results.add(e.getMessage());
                }
            }
            if (!batch.isEmpty()) {
                float[][] outs = run(batch);
                for (int i = 0, b = 0; i < results.size(); i++) if (results.get(i) instanceof float[]) results.set(i, outs[b++]);
            }
            for (int i = 0; i < pending.size(); i++) ready.add(outputRow(pending.get(i), results.get(i)));
        }

        private float[][] run(List<float[]> batch) {
            int b = batch.size();
            float[] flat = new float[b * numel];
            for (int i = 0; i < b; i++) System.arraycopy(batch.get(i), 0, flat, i * numel, numel);
            int[] xs = new int[shape.length + 1];
            xs[0] = b;
            System.arraycopy(shape, 0, xs, 1, shape.length);
            float[] y;
            try (Tensor x = Tensor.of(flat, xs); Tensor out = Tensor.zeros(session.outputShape(0, xs))) {
                session.run(x, out);
                y = out.toFloatArray();
            }
            int per = y.length / b;
            float[][] r = new float[b][];
            for (int i = 0; i < b; i++) r[i] = Arrays.copyOfRange(y, i * per, (i + 1) * per);
            return r;
        }

        private Row outputRow(Row r, Object result) {
            int n = r.length();
            int extra = config.topK() > 0 ? 4 : 2;
            Object[] v = new Object[n + extra];
            for (int i = 0; i < n; i++) v[i] = r.get(i);
            if (result instanceof float[] out) {
                v[n] = out;
                if (config.topK() > 0) {
                    int[] idx = topK(out, config.topK());
                    float[] sc = new float[idx.length];
                    for (int i = 0; i < idx.length; i++) sc[i] = out[idx[i]];
                    v[n + 1] = idx;
                    v[n + 2] = sc;
                }
            } else {
                v[n + extra - 1] = result;
            }
            return RowFactory.create(v);
        }

        private String describe(Row r) {
            int p = fieldIndex(r, "path");
            return p >= 0 && !r.isNullAt(p) ? " (path " + r.get(p) + ")" : "";
        }
    }

    private static int fieldIndex(Row r, String name) {
        if (r.schema() == null) return -1;
        for (int i = 0; i < r.schema().fields().length; i++) if (r.schema().fields()[i].name().equals(name)) return i;
        return -1;
    }

    private static int partitionId() {
        TaskContext tc = TaskContext.get();
        return tc == null ? -1 : tc.partitionId();
    }
}
