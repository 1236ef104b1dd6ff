package tessera.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * Spark {@code local[2]} in this JVM (one SparkSession for the class): results equal direct {@link InferenceSession}
 * runs bit for bit with the same batch composition; bad rows get an error and the job goes on, or fail it with
 * failFast; the session is loaded once per executor JVM (counted inside the tasks).
 */
class SparkInferenceTest {
    static SparkSession spark;
    @TempDir static Path tmp;
    static Path lenet, resnet;

    @BeforeAll
    static void start() throws IOException {
        lenet = copyFixture("lenet5.onnx");
        resnet = copyFixture("resnet_tiny.onnx");
        spark = SparkSession.builder().master("local[2]").appName("tessera-spark-test")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        ExecutorSessions.closeAll();
    }

    static Path copyFixture(String name) throws IOException {
        try (InputStream in = SparkInferenceTest.class.getResourceAsStream("/onnx/" + name)) {
            assertNotNull(in, "fixture /onnx/" + name + " (tessera-onnx test-jar) missing");
            Path p = tmp.resolve(name);
            Files.copy(in, p);
            return p;
        }
    }

    /** Direct runs: per partition (in row order) the good rows in batches of {@code batch}, as the Spark side does. */
    static Map<Integer, float[]> direct(InferenceSession s, List<Integer> partitionOf, List<float[]> samples, int[] sampleShape, int batch) {
        Map<Integer, float[]> out = new LinkedHashMap<>();
        int numel = samples.stream().filter(x -> x != null).findFirst().orElseThrow().length;
        int i = 0;
        while (i < samples.size()) {
            int p = partitionOf.get(i);
            List<Integer> rows = new ArrayList<>();
            while (i < samples.size() && partitionOf.get(i) == p && rows.size() < batch) {
                if (samples.get(i) != null) rows.add(i);
                i++;
            }
            if (rows.isEmpty()) continue;
            int b = rows.size();
            float[] flat = new float[b * numel];
            for (int k = 0; k < b; k++) System.arraycopy(samples.get(rows.get(k)), 0, flat, k * numel, numel);
            int[] xs = new int[sampleShape.length + 1];
            xs[0] = b;
            System.arraycopy(sampleShape, 0, xs, 1, sampleShape.length);
            try (Tensor x = Tensor.of(flat, xs); Tensor y = Tensor.zeros(s.outputShape(0, xs))) {
                s.run(x, y);
                float[] all = y.toFloatArray();
                int per = all.length / b;
                for (int k = 0; k < b; k++) out.put(rows.get(k), java.util.Arrays.copyOfRange(all, k * per, (k + 1) * per));
            }
        }
        return out;
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]);
            }
        }
    }

    static float[] floats(Row r, String col) {
        List<Object> l = r.getList(r.fieldIndex(col));
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) f[i] = (Float) l.get(i);
        return f;
    }

    @Test
    void arrayRowsEqualDirectSessionBitForBitBadRowsGetAReasonAndTheSessionLoadsOncePerExecutor() {
        int good = 200, numel = 28 * 28, batch = 16;
        Random rnd = new Random(16);
        List<Row> rows = new ArrayList<>();
        int bad = 0;
        for (int i = 0; i < good + 12; i++) {
            float[] v;
            if (i % 18 == 5 && bad < 12) {                  // wrong size, spread over partitions
                v = new float[numel - 1 - bad];
                bad++;
            } else {
                v = new float[numel];
            }
            for (int k = 0; k < v.length; k++) v[k] = (float) rnd.nextGaussian();
            rows.add(RowFactory.create(i, v));
        }
        assertEquals(12, bad);
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("x", DataTypes.createArrayType(DataTypes.FloatType));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Dataset<Row> df = spark.createDataFrame(jsc.parallelize(rows, 6), schema);

        String model = lenet.toString();
        // loaded at most once so far (another test of this class may have scored with the same model)
        assertTrue(ExecutorSessions.loads(model) <= 1);
        TesseraTransformer t = new TesseraTransformer().setModelPath(model).setInputCol("x").setOutputCol("logits")
                .setTopK(3).setBatchSize(batch);
        Dataset<Row> scored = t.transform(df).withColumn("pid", functions.spark_partition_id());
        List<Row> result = scored.collectAsList();   // partition order, row order within partitions
        assertEquals(good + 12, result.size());

        // the load count as seen inside the executor's tasks (a second job; this JVM is the local executor)
        List<Integer> seenInTasks = df.mapPartitions(
                (org.apache.spark.api.java.function.MapPartitionsFunction<Row, Integer>) it -> List.of(ExecutorSessions.loads(model)).iterator(),
                Encoders.INT()).collectAsList();
        assertEquals(List.of(1, 1, 1, 1, 1, 1), seenInTasks, "one load per executor JVM, seen by every task");

        List<Integer> partitionOf = new ArrayList<>();
        List<float[]> samples = new ArrayList<>();
        for (Row r : result) {
            partitionOf.add(r.getInt(r.fieldIndex("pid")));
            List<Object> l = r.getList(r.fieldIndex("x"));
            float[] v = new float[l.size()];
            for (int k = 0; k < v.length; k++) v[k] = (Float) l.get(k);
            samples.add(v.length == numel ? v : null);
        }
        assertEquals(6, partitionOf.stream().distinct().count(), "rows spread over the 6 partitions");
        try (InferenceSession s = InferenceSession.load(lenet, SessionOptions.DEFAULT.withThreads(1))) {
            Map<Integer, float[]> expected = direct(s, partitionOf, samples, new int[] {1, 28, 28}, batch);
            assertEquals(good, expected.size());
            int errors = 0;
            for (int i = 0; i < result.size(); i++) {
                Row r = result.get(i);
                String err = r.getString(r.fieldIndex("error"));
                if (samples.get(i) == null) {
                    errors++;
                    assertNotNull(err, "row " + r.getInt(0) + " has the wrong size");
                    assertTrue(err.startsWith("wrong size: ") && err.contains("takes 784 per sample [1, 28, 28]"), err);
                    assertTrue(r.isNullAt(r.fieldIndex("logits")));
                    continue;
                }
                assertNull(err, "row " + r.getInt(0));
                float[] y = floats(r, "logits");
                assertBitsEqual(expected.get(i), y, "row " + r.getInt(0));
                List<Object> idx = r.getList(r.fieldIndex("logits_topk_indices"));
                float[] sc = floats(r, "logits_topk_scores");
                assertEquals(3, idx.size());
                for (int k = 0; k < 3; k++) {
                    assertEquals(y[(Integer) idx.get(k)], sc[k]);
                    if (k > 0) assertTrue(sc[k - 1] >= sc[k]);
                }
                for (int c = 0; c < y.length; c++) if (!idx.contains(c)) assertTrue(y[c] <= sc[2], "top-3 misses class " + c);
            }
            assertEquals(12, errors);
        }
        assertEquals(1, ExecutorSessions.loads(model), "one load for the whole job and the second one");
    }

    static byte[] png(int w, int h, Random rnd) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
        var bos = new java.io.ByteArrayOutputStream();
        ImageIO.write(img, "png", bos);
        return bos.toByteArray();
    }

    @Test
    void imageFilesThroughAPipelineEqualDirectRunsAndUndecodableFilesGetAnError() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        Random rnd = new Random(7);
        int n = 24;
        for (int i = 0; i < n; i++) Files.write(dir.resolve(String.format("img%02d.png", i)), png(30 + rnd.nextInt(40), 30 + rnd.nextInt(40), rnd));
        Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.writeString(dir.resolve("notes.png"), "not an image");

        Dataset<Row> files = spark.read().format("binaryFile").load(dir.toString()).repartition(3).sortWithinPartitions("path");
        TesseraTransformer t = new TesseraTransformer().setModelPath(resnet.toString()).setInputCol("content").setOutputCol("y")
                .setBatchSize(4).setTopK(2);
        Dataset<Row> scored = new Pipeline().setStages(new PipelineStage[] {t}).fit(files).transform(files)
                .withColumn("pid", functions.spark_partition_id());
        assertTrue(java.util.Arrays.asList(scored.schema().fieldNames()).containsAll(List.of("path", "content", "y", "y_topk_indices", "y_topk_scores", "error")));
        List<Row> result = scored.collectAsList();
        assertEquals(n + 2, result.size());

        List<Integer> partitionOf = new ArrayList<>();
        List<float[]> samples = new ArrayList<>();
        for (Row r : result) {
            partitionOf.add(r.getInt(r.fieldIndex("pid")));
            byte[] bytes = (byte[]) r.get(r.fieldIndex("content"));
            float[] s;
            try {
                s = ImagePreprocessing.DEFAULT.apply(bytes, 3, 32, 32);
            } catch (BadRowException e) {
                s = null;
            }
            samples.add(s);
        }
        try (InferenceSession s = InferenceSession.load(resnet, SessionOptions.DEFAULT.withThreads(1))) {
            Map<Integer, float[]> expected = direct(s, partitionOf, samples, new int[] {3, 32, 32}, 4);
            assertEquals(n, expected.size());
            for (int i = 0; i < result.size(); i++) {
                Row r = result.get(i);
                String path = r.getString(r.fieldIndex("path"));
                String err = r.getString(r.fieldIndex("error"));
                if (path.endsWith("broken.png") || path.endsWith("notes.png")) {
                    assertNotNull(err, path);
                    assertTrue(err.startsWith("cannot decode image"), err);
                    assertNull(samples.get(i));
                } else {
                    assertNull(err, path);
                    assertBitsEqual(expected.get(i), floats(r, "y"), path);
                }
            }
        }
        assertEquals(1, ExecutorSessions.loads(resnet.toString()));
    }

    @Test
    void failFastStopsTheJobWithTheReason() {
        List<Row> rows = List.of(RowFactory.create(1, new double[784]), RowFactory.create(2, new double[5]));
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("x", DataTypes.createArrayType(DataTypes.DoubleType));
        List<Row> data = new ArrayList<>();
        for (Row r : rows) {
            List<Double> l = new ArrayList<>();
            for (double d : (double[]) r.get(1)) l.add(d);
            data.add(RowFactory.create(r.get(0), l));
        }
        Dataset<Row> df = spark.createDataFrame(data, schema);
        ScoringConfig cfg = ScoringConfig.of(lenet.toString(), "x").withFailFast(true);
        Exception e = assertThrows(Exception.class, () -> TesseraInference.score(df, cfg).collectAsList());
        String msg = String.valueOf(e.getMessage());
        assertTrue(msg.contains("wrong size: 5 values, the model takes 784 per sample [1, 28, 28]"), msg);
        // without failFast the same rows score, the bad one with its reason
        List<Row> ok = TesseraInference.score(df, cfg.withFailFast(false)).orderBy("id").collectAsList();
        assertNull(ok.get(0).getString(ok.get(0).fieldIndex("error")));
        assertEquals(10, ok.get(0).getList(ok.get(0).fieldIndex("prediction")).size());
        assertTrue(ok.get(1).getString(ok.get(1).fieldIndex("error")).startsWith("wrong size: 5 values"));
    }
}
