package tessera.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Scores a folder of images with an ONNX model on Spark and writes Parquet:
 * {@code ./tessera spark --model M.onnx --images DIR --out OUT [--master local[N]] [--batch B] [--top-k K]
 * [--threads T] [--partitions P] [--resize S] [--crop H,W] [--mean a,b,c --std a,b,c] [--fail-fast]}.
 * Also a {@code spark-submit --class tessera.spark.ScoreImages} main (then {@code --master} comes from spark-submit).
 */
public final class ScoreImages {
    private ScoreImages() {}

    static final String USAGE = """
            usage: ./tessera spark --model M.onnx --images DIR --out OUT.parquet [options]
              --master URL      Spark master (default local[2]; ignored when spark-submit sets one)
              --batch B         rows per model run within a partition (default 32)
              --top-k K         add top-K class indices and scores (default 5; 0 for none)
              --threads T       intra-op threads per task (default 0 = spark.task.cpus)
              --partitions P    repartition the files into P partitions (default: as read)
              --resize S        shorter side before the crop (default crop x 256/224)
              --crop H,W        center crop (default: the model's input H,W)
              --mean a,b,c      per-channel mean after /255 (default ImageNet for 3 channels)
              --std a,b,c       per-channel std (default ImageNet for 3 channels)
              --glob PATTERN    file name filter (default *)
              --fail-fast       fail the job on the first undecodable image
            """;

    public static void main(String[] args) {
        String model = null, images = null, out = null, master = null, glob = "*";
        int batch = 32, topK = 5, threads = 0, partitions = 0, resize = 0, cropH = 0, cropW = 0;
        float[] mean = null, std = null;
        boolean failFast = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--model" -> model = value(args, ++i, a);
                case "--images" -> images = value(args, ++i, a);
                case "--out" -> out = value(args, ++i, a);
                case "--master" -> master = value(args, ++i, a);
                case "--glob" -> glob = value(args, ++i, a);
                case "--batch" -> batch = intValue(args, ++i, a);
                case "--top-k" -> topK = intValue(args, ++i, a);
                case "--threads" -> threads = intValue(args, ++i, a);
                case "--partitions" -> partitions = intValue(args, ++i, a);
                case "--resize" -> resize = intValue(args, ++i, a);
                case "--crop" -> {
                    float[] c = floats(value(args, ++i, a), a);
                    if (c.length != 2) fail("--crop takes H,W");
                    cropH = (int) c[0];
                    cropW = (int) c[1];
                }
                case "--mean" -> mean = floats(value(args, ++i, a), a);
                case "--std" -> std = floats(value(args, ++i, a), a);
                case "--fail-fast" -> failFast = true;
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return;
                }
                default -> fail("unknown option " + a);
            }
        }
        if (model == null || images == null || out == null) fail("--model, --images and --out are required");
        if ((mean == null) != (std == null)) fail("give --mean and --std together");

        String m = master != null ? master : System.getProperty("spark.master", "local[2]");
        SparkSession.Builder b = SparkSession.builder().appName("tessera-score-images").master(m);
        if (m.startsWith("local")) {   // in-process: no UI, driver on loopback
            b = b.config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1");
        }
        SparkSession spark = b.getOrCreate();
        try {
            long t0 = System.nanoTime();
            Dataset<Row> files = spark.read().format("binaryFile").option("pathGlobFilter", glob).load(images);
            if (partitions > 0) files = files.repartition(partitions);
            ScoringConfig cfg = ScoringConfig.of(model, "content").withTopK(topK).withBatchSize(batch).withThreadsPerTask(threads)
                    .withFailFast(failFast).withImages(new ImagePreprocessing(resize, cropH, cropW, mean, std));
            List<String> cols = new ArrayList<>(List.of("path", "prediction"));
            if (topK > 0) cols.addAll(List.of("prediction_topk_indices", "prediction_topk_scores"));
            cols.add("error");
            Dataset<Row> scored = TesseraInference.score(files, cfg).select(cols.stream().map(functions::col).toArray(org.apache.spark.sql.Column[]::new));
            scored.write().mode("overwrite").parquet(out);
            double secs = (System.nanoTime() - t0) / 1e9;
            Dataset<Row> written = spark.read().parquet(out);
            long total = written.count(), errors = written.filter(functions.col("error").isNotNull()).count();
            System.out.printf("scored %d images (%d errors) in %.1f s on %s; wrote %s%n", total, errors, secs, spark.sparkContext().master(), out);
            written.orderBy("path").show(5, 60, false);
        } finally {
            spark.stop();
        }
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) fail(opt + " needs a value");
        return args[i];
    }

    private static int intValue(String[] args, int i, String opt) {
        try {
            return Integer.parseInt(value(args, i, opt));
        } catch (NumberFormatException e) {
            fail(opt + " takes an integer, got '" + args[i] + "'");
            return 0;
        }
    }

    private static float[] floats(String s, String opt) {
        String[] p = s.split(",");
        float[] f = new float[p.length];
        try {
            for (int i = 0; i < p.length; i++) f[i] = Float.parseFloat(p[i].trim());
        } catch (NumberFormatException e) {
            fail(opt + " takes comma-separated numbers, got '" + s + "'");
        }
        return f;
    }

    private static void fail(String msg) {
        System.err.println("tessera spark: error: " + msg);
        System.err.print(USAGE);
        System.exit(2);
    }
}
