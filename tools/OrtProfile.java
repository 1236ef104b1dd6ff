import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-node times of ONNX Runtime Java for one model, to set beside {@code ./tessera bench --model M --profile}.
 * Not part of the build: run with the onnxruntime jar from the local Maven repository,
 * {@code java -cp ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.23.2/onnxruntime-1.23.2.jar
 * tools/OrtProfile.java MODEL.onnx BATCH THREADS [RUNS]}. Prints the mean time per node (ms) over the profiled runs,
 * slowest first, and the total.
 */
public class OrtProfile {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int batch = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]);
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        Path prefix = Files.createTempDirectory("ortprof").resolve("p");
        try (OrtSession warm = env.createSession(model.toString(), o)) {
            run(env, warm, batch, 5);
        }
        o.enableProfiling(prefix.toString());
        try (OrtSession s = env.createSession(model.toString(), o)) {
            run(env, s, batch, 3);
            long t0 = System.nanoTime();
            run(env, s, batch, runs);
            double wall = (System.nanoTime() - t0) / 1e6 / runs;
            String file = s.endProfiling();
            String json = Files.readString(Path.of(file));
            Map<String, Double> perNode = new HashMap<>();
            Map<String, String> opOf = new HashMap<>();
            Map<String, String> shapeOf = new HashMap<>();
            Pattern namePat = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]+)_kernel_time\"");
            Pattern dur = Pattern.compile("\"dur\"\\s*:\\s*(\\d+)");
            Pattern op = Pattern.compile("\"op_name\"\\s*:\\s*\"([^\"]+)\"");
            Pattern shape = Pattern.compile("\"output_type_shape\"\\s*:\\s*\\[\\{\"float\":(\\[[^\\]]*\\])");
            double total = 0;
            for (String e : json.split("\n")) {
                if (!e.contains("\"cat\" : \"Node\"")) continue;
                Matcher n = namePat.matcher(e), d = dur.matcher(e), o2 = op.matcher(e), sh = shape.matcher(e);
                if (!n.find() || !d.find()) continue;
                double ms = Long.parseLong(d.group(1)) / 1000.0;
                perNode.merge(n.group(1), ms, Double::sum);
                if (o2.find()) opOf.put(n.group(1), o2.group(1));
                if (sh.find()) shapeOf.put(n.group(1), sh.group(1));
                total += ms;
            }
            int profiled = runs + 3;
            System.out.printf("ONNX Runtime %s, batch %d, %d threads: %.3f ms per run (wall, mean of %d), nodes sum %.3f ms%n",
                    env.getVersion(), batch, threads, wall, runs, total / profiled);
            TreeMap<Double, String> sorted = new TreeMap<>((a, b) -> Double.compare(b, a));
            perNode.forEach((k, v) -> sorted.put(v / profiled + 1e-12 * k.hashCode(), k));
            Map<String, Double> byOp = new TreeMap<>();
            sorted.forEach((ms, name) -> {
                System.out.printf("%-50s %-14s %-20s %9.3f%n", name, opOf.getOrDefault(name, "?"), shapeOf.getOrDefault(name, ""), ms);
                byOp.merge(opOf.getOrDefault(name, "?"), ms, Double::sum);
            });
            System.out.println("by op:");
            byOp.forEach((k, v) -> System.out.printf("  %-30s %9.3f ms%n", k, v));
        }
    }

    private static void run(OrtEnvironment env, OrtSession s, int batch, int times) throws Exception {
        String in = s.getInputNames().iterator().next();
        float[] data = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < data.length; i++) data[i] = (float) Math.sin(i * 0.001);
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {batch, 3, 224, 224})) {
            for (int i = 0; i < times; i++) try (OrtSession.Result r = s.run(Map.of(in, t))) { r.get(0); }
        }
    }
}
