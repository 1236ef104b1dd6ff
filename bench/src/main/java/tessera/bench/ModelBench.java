package tessera.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * Whole-model inference latency: Tessera's {@link InferenceSession} beside ONNX Runtime Java in the same JVM, on
 * torchvision models exported by {@code tools/make_torchvision_onnx.py} (random weights, 3×224×224 inputs).
 * One op = one forward pass of {@code batch} images (ms/op; images/s = batch·1000 / score).
 *
 * <p>The model directory is the system property {@code tessera.models} (default {@code /tmp/tessera-models}; pass
 * it to the fork with {@code -jvmArgsPrepend -Dtessera.models=DIR}). When {@code <model>.onnx} is absent the
 * combination is skipped: setup throws {@link BenchmarkSkipped}, so JMH records no score for it.
 * ONNX Runtime is a dependency of {@code bench} only.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xmx4g", "-XX:+UseParallelGC"})
public class ModelBench {
    @Param({"resnet18", "resnet50", "mobilenet_v2", "googlenet", "vgg16"})
    public String model;

    @Param({"tessera", "ort"})
    public String engine;

    @Param({"1", "16"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    private InferenceSession tessera;
    private Tensor x, y;
    private OrtEnvironment env;
    private OrtSession ort;
    private OnnxTensor ortInput;
    private String ortInputName;

    @Setup(Level.Trial)
    public void setUp() throws OrtException {
        Path file = Path.of(System.getProperty("tessera.models", "/tmp/tessera-models"), model + ".onnx");
        if (!Files.isRegularFile(file)) {
            throw new BenchmarkSkipped(file + " is absent (tools/make_torchvision_onnx.py writes it)");
        }
        int n = batch * 3 * 224 * 224;
        float[] data = new float[n];
        Random r = new Random(42);
        for (int i = 0; i < n; i++) data[i] = (float) r.nextGaussian();
        if (engine.equals("tessera")) {
            tessera = InferenceSession.load(file, SessionOptions.DEFAULT.withThreads(threads));
            x = Tensor.of(data, batch, 3, 224, 224);
            y = Tensor.zeros(tessera.outputShape(0, new int[] {batch, 3, 224, 224}));
        } else if (engine.equals("ort")) {
            env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setInterOpNumThreads(1);
                o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                ort = env.createSession(file.toString(), o);
            }
            ortInputName = ort.getInputNames().iterator().next();
            FloatBuffer fb = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            fb.put(data).rewind();
            ortInput = OnnxTensor.createTensor(env, fb, new long[] {batch, 3, 224, 224});
        } else {
            throw new IllegalArgumentException("engine '" + engine + "' must be tessera or ort");
        }
    }

    @Benchmark
    public Object infer() throws OrtException {
        if (tessera != null) {
            tessera.run(x, y);
            return y;
        }
        try (OrtSession.Result r = ort.run(Map.of(ortInputName, ortInput))) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (tessera != null) tessera.close();
        if (x != null) x.close();
        if (y != null) y.close();
        if (ortInput != null) ortInput.close();
        if (ort != null) ort.close();
    }
}
