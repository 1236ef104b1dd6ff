package tessera.bench;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * A development probe for a loaded machine, not a benchmark to quote as latency: Tessera and ONNX Runtime Java run
 * the same model alternately, and each run's <em>process CPU time</em> (all threads: the work done, which other
 * processes' load disturbs only through shared caches) and wall time are recorded; prints medians and the
 * Tessera/ORT ratios. Latency figures for reports come from {@link ModelBench} on a quiet machine.
 * {@code java -cp benchmarks.jar tessera.bench.ModelCpuTimeProbe MODEL BATCH THREADS [ROUNDS]}.
 */
public final class ModelCpuTimeProbe {
    private ModelCpuTimeProbe() {}

    public static void main(String[] args) throws OrtException {
        String model = args[0];
        int batch = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        Path file = Path.of(System.getProperty("tessera.models", "/tmp/tessera-models"), model + ".onnx");
        int n = batch * 3 * 224 * 224;
        float[] data = new float[n];
        Random r = new Random(42);
        for (int i = 0; i < n; i++) data[i] = (float) r.nextGaussian();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (InferenceSession t = InferenceSession.load(file, SessionOptions.DEFAULT.withThreads(threads));
             Tensor x = Tensor.of(data, batch, 3, 224, 224);
             Tensor y = Tensor.zeros(t.outputShape(0, new int[] {batch, 3, 224, 224}));
             OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession ort = env.createSession(file.toString(), o)) {
                String in = ort.getInputNames().iterator().next();
                FloatBuffer fb = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
                fb.put(data).rewind();
                try (OnnxTensor ox = OnnxTensor.createTensor(env, fb, new long[] {batch, 3, 224, 224})) {
                    Runnable tessera = () -> t.run(x, y);
                    Runnable onnx = () -> {
                        try (OrtSession.Result res = ort.run(Map.of(in, ox))) {
                            res.get(0);
                        } catch (OrtException e) {
                            throw new IllegalStateException(e);
                        }
                    };
                    long warmEnd = System.nanoTime() + 20_000_000_000L;
                    while (System.nanoTime() < warmEnd) { tessera.run(); onnx.run(); }
                    // process CPU time has a coarse clock (10 ms here): it is read per block of runs; the calling
                    // thread's CPU time (fine-grained) per run, which is all the work when an engine runs on one thread
                    var mx = ManagementFactory.getThreadMXBean();
                    int blocks = 4, perBlock = Math.max(1, rounds / blocks);
                    double[] procCpu = new double[2];
                    double[][] thr = new double[2][blocks * perBlock], wall = new double[2][blocks * perBlock];
                    for (int blk = 0; blk < blocks; blk++) {
                        for (int e = 0; e < 2; e++) {
                            Runnable run = e == 0 ? tessera : onnx;
                            long c0 = os.getProcessCpuTime();
                            for (int i = 0; i < perBlock; i++) {
                                long t0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
                                run.run();
                                wall[e][blk * perBlock + i] = (System.nanoTime() - w0) / 1e6;
                                thr[e][blk * perBlock + i] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
                            }
                            procCpu[e] += (os.getProcessCpuTime() - c0) / 1e6;
                        }
                    }
                    int runs = blocks * perBlock;
                    double tp = procCpu[0] / runs, op = procCpu[1] / runs;
                    double tt = median(thr[0]), ot = median(thr[1]), tw = median(wall[0]), ow = median(wall[1]);
                    System.out.printf("%s batch %d, %d threads, %d runs each (load average %.1f):%n"
                                    + "  process CPU ms per run: tessera %.1f, ort %.1f (ratio %.2f)%n"
                                    + "  calling-thread CPU ms per run (median): tessera %.1f, ort %.1f (ratio %.2f)%n"
                                    + "  wall ms (median): tessera %.1f, ort %.1f (ratio %.2f)%n", model, batch, threads, runs,
                            os.getSystemLoadAverage(), tp, op, tp / op, tt, ot, tt / ot, tw, ow, tw / ow);
                }
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
