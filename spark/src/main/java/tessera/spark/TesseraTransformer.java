package tessera.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that scores a column with an ONNX model, for use in a {@code Pipeline}.
 * Params: {@code modelPath}, {@code inputCol}, {@code outputCol} ("prediction"), {@code errorCol} ("error"),
 * {@code topK} (0), {@code batchSize} (32), {@code threadsPerTask} (0 = spark.task.cpus), {@code failFast} (false).
 * Image preprocessing and an explicit per-sample shape are set with {@link #setImagePreprocessing} and
 * {@link #setSampleShape}. Semantics: {@link ScoringConfig}, {@link TesseraInference}.
 */
public final class TesseraTransformer extends Transformer {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final IntParam topK;
    private final IntParam batchSize;
    private final IntParam threadsPerTask;
    private final BooleanParam failFast;
    private ImagePreprocessing images = ImagePreprocessing.DEFAULT;
    private int[] sampleShape;

    public TesseraTransformer() { this(Identifiable$.MODULE$.randomUID("tessera")); }

    public TesseraTransformer(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "ONNX model file (or the name of a file shipped with --files)");
        inputCol = new Param<>(this, "inputCol", "binary (encoded image), array<float>, array<double> or vector column");
        outputCol = new Param<>(this, "outputCol", "output column: the model's first output per row, array<float>");
        errorCol = new Param<>(this, "errorCol", "error column: null, or why the row could not be scored");
        topK = new IntParam(this, "topK", "k > 0 adds the k largest outputs' indices and scores; 0 adds none");
        batchSize = new IntParam(this, "batchSize", "rows per model run within a partition (>= 1)");
        threadsPerTask = new IntParam(this, "threadsPerTask", "intra-op threads; 0 = spark.task.cpus; at most spark.task.cpus");
        failFast = new BooleanParam(this, "failFast", "fail the job on the first bad row instead of filling the error column");
        setDefault(outputCol, "prediction");
        setDefault(errorCol, "error");
        setDefault(topK, 0);
        setDefault(batchSize, 32);
        setDefault(threadsPerTask, 0);
        setDefault(failFast, false);
    }

    @Override
    public String uid() { return uid; }

    // Spark ML finds params through public no-argument methods returning Param
    public Param<String> modelPath() { return modelPath; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> errorCol() { return errorCol; }
    public IntParam topK() { return topK; }
    public IntParam batchSize() { return batchSize; }
    public IntParam threadsPerTask() { return threadsPerTask; }
    public BooleanParam failFast() { return failFast; }

    public TesseraTransformer setModelPath(String v) { set(modelPath, v); return this; }
    public TesseraTransformer setInputCol(String v) { set(inputCol, v); return this; }
    public TesseraTransformer setOutputCol(String v) { set(outputCol, v); return this; }
    public TesseraTransformer setErrorCol(String v) { set(errorCol, v); return this; }
    public TesseraTransformer setTopK(int v) { set(topK, v); return this; }
    public TesseraTransformer setBatchSize(int v) { set(batchSize, v); return this; }
    public TesseraTransformer setThreadsPerTask(int v) { set(threadsPerTask, v); return this; }
    public TesseraTransformer setFailFast(boolean v) { set(failFast, v); return this; }
    public TesseraTransformer setImagePreprocessing(ImagePreprocessing p) { images = p == null ? ImagePreprocessing.DEFAULT : p; return this; }
    public TesseraTransformer setSampleShape(int... s) { sampleShape = s == null ? null : s.clone(); return this; }

    /** The configuration this transformer scores with (validated). */
    public ScoringConfig config() {
        if (!isDefined(modelPath)) throw new IllegalArgumentException("TesseraTransformer: modelPath is not set");
        if (!isDefined(inputCol)) throw new IllegalArgumentException("TesseraTransformer: inputCol is not set");
        return new ScoringConfig($(modelPath), $(inputCol), $(outputCol), $(errorCol), (Integer) $(topK), null, null,
                (Integer) $(batchSize), (Integer) $(threadsPerTask), (Boolean) $(failFast), sampleShape, images);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) { return TesseraInference.score(dataset, config()); }

    @Override
    public StructType transformSchema(StructType schema) { return TesseraInference.outputSchema(schema, config()); }

    @Override
    public TesseraTransformer copy(ParamMap extra) {
        TesseraTransformer t = defaultCopy(extra);
        t.images = images;
        t.sampleShape = sampleShape;
        return t;
    }
}
