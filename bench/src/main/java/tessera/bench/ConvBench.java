package tessera.bench;

import java.util.Map;
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

import tessera.kernels.Activation;
import tessera.kernels.ComputePool;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvPlan;
import tessera.kernels.conv.ConvSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Convolution forward (inference, through a {@link ConvPlan} with bias) per ResNet/VGG layer and algorithm.
 *
 * <p>Params: {@code layer} (below), {@code algo} ∈ direct, im2col, winograd2, winograd4, auto (a Winograd
 * algorithm on a layer that is not 3×3 stride 1 is skipped in setup: {@link BenchmarkSkipped}), {@code batch},
 * {@code threads} (compute pool size). Score: convolutions per second; GFLOP/s = score × {@link #flops} / 1e9,
 * counted as direct-convolution work 2·N·K·C·R·S·P·Q, so Winograd's saving shows as more than the FMA peak
 * (≈ 130 GFLOP/s on one thread, ≈ 250 on two).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class ConvBench {

    @Param({"r18_conv1", "r18_64_56", "r18_128_28", "r18_256_14", "r18_512_7", "r18_down_128_56",
            "r50_1x1_256_64_56", "r50_1x1_64_64_56", "r50_1x1_64_256_56", "r50_1x1_128_512_28", "r50_1x1_256_1024_14", "r50_1x1_512_2048_7", "vgg_64_224"})
    public String layer;

    @Param({"direct", "im2col", "winograd2", "winograd4", "auto"})
    public String algo;

    @Param({"1"})
    public int batch;

    @Param({"1"})
    public int threads;

    private ConvPlan plan;
    private Tensor x, w, b, y;
    private int savedThreads;

    /** The layer's convolution for a batch size. */
    public static ConvSpec spec(String layer, int batch) {
        return switch (layer) {
            case "r18_conv1" -> ConvSpec.of(batch, 3, 224, 64, 7, 2, 3);
            case "r18_64_56" -> ConvSpec.of(batch, 64, 56, 64, 3, 1, 1);
            case "r18_128_28" -> ConvSpec.of(batch, 128, 28, 128, 3, 1, 1);
            case "r18_256_14" -> ConvSpec.of(batch, 256, 14, 256, 3, 1, 1);
            case "r18_512_7" -> ConvSpec.of(batch, 512, 7, 512, 3, 1, 1);
            case "r18_down_128_56" -> ConvSpec.of(batch, 64, 56, 128, 3, 2, 1);
            case "r18_down_256_28" -> ConvSpec.of(batch, 128, 28, 256, 3, 2, 1);
            case "r18_down_512_14" -> ConvSpec.of(batch, 256, 14, 512, 3, 2, 1);
            case "r50_1x1_256_64_56" -> ConvSpec.of(batch, 256, 56, 64, 1, 1, 0);
            case "r50_1x1_64_64_56" -> ConvSpec.of(batch, 64, 56, 64, 1, 1, 0);
            case "r50_1x1_64_256_56" -> ConvSpec.of(batch, 64, 56, 256, 1, 1, 0);
            case "r50_1x1_128_512_28" -> ConvSpec.of(batch, 128, 28, 512, 1, 1, 0);
            case "r50_1x1_256_1024_14" -> ConvSpec.of(batch, 256, 14, 1024, 1, 1, 0);
            case "r50_1x1_512_2048_7" -> ConvSpec.of(batch, 512, 7, 2048, 1, 1, 0);
            case "mnv2_pw_960_320_7" -> ConvSpec.of(batch, 960, 7, 320, 1, 1, 0);
            case "mnv2_pw_320_1280_7" -> ConvSpec.of(batch, 320, 7, 1280, 1, 1, 0);
            case "r50_1x1_2048_512_7" -> ConvSpec.of(batch, 2048, 7, 512, 1, 1, 0);
            case "mnv2_stem" -> ConvSpec.of(batch, 3, 224, 32, 3, 2, 1);
            case "mnv2_pw_16_96_112" -> ConvSpec.of(batch, 16, 112, 96, 1, 1, 0);
            case "mnv2_dw_32_112" -> depthwise(batch, 32, 112, 1);
            case "mnv2_dw_96_112_s2" -> depthwise(batch, 96, 112, 2);
            case "mnv2_dw_144_56" -> depthwise(batch, 144, 56, 1);
            case "mnv2_dw_144_56_s2" -> depthwise(batch, 144, 56, 2);
            case "mnv2_dw_960_7" -> depthwise(batch, 960, 7, 1);
            case "vgg_64_224" -> ConvSpec.of(batch, 64, 224, 64, 3, 1, 1);
            default -> throw new IllegalArgumentException("unknown layer '" + layer + "'");
        };
    }

    /** A 3×3 depthwise convolution (groups = channels), padding 1. */
    private static ConvSpec depthwise(int batch, int channels, int size, int stride) {
        int out = (size + 2 - 3) / stride + 1;
        return new ConvSpec(batch, channels, size, size, channels, 3, 3, stride, stride, 1, 1,
                (out - 1) * stride + 3 - size - 1, (out - 1) * stride + 3 - size - 1, 1, 1, channels);
    }

    public static ConvAlgorithm algorithm(String algo) {
        return switch (algo) {
            case "direct" -> ConvAlgorithm.DIRECT;
            case "im2col" -> ConvAlgorithm.IM2COL;
            case "winograd2" -> ConvAlgorithm.WINOGRAD_F2X3;
            case "winograd4" -> ConvAlgorithm.WINOGRAD_F4X3;
            case "auto" -> ConvAlgorithm.AUTO;
            default -> throw new IllegalArgumentException("unknown algo '" + algo + "'");
        };
    }

    /** Why {@code algo} cannot run on {@code s}, or null when it can: Winograd needs a 3×3 kernel, stride 1, dilation 1. */
    public static String notApplicable(ConvSpec s, String algo) {
        if (!algo.startsWith("winograd")) return null;
        boolean ok = s.kernelH() == 3 && s.kernelW() == 3 && s.strideH() == 1 && s.strideW() == 1
                && s.dilationH() == 1 && s.dilationW() == 1;
        return ok ? null : "Winograd needs a 3x3 kernel with stride 1; this layer is " + s.kernelH() + "x" + s.kernelW()
                + " stride " + s.strideH();
    }

    /** FLOPs of one benchmark operation (direct-convolution count). */
    public static double flops(String method, Map<String, String> params) {
        return spec(params.get("layer"), Integer.parseInt(params.getOrDefault("batch", "1"))).flops();
    }

    @Setup(Level.Trial)
    public void setup() {
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        ConvSpec s = spec(layer, batch);
        String why = notApplicable(s, algo);
        if (why != null) throw new BenchmarkSkipped(algo + " on " + layer + ": " + why);
        x = RandomFill.uniform(Tensor.zeros(DType.F32, s.inputShape()), 1, -1, 1);
        w = RandomFill.uniform(Tensor.zeros(DType.F32, s.weightShape()), 2, -0.1, 0.1);
        b = RandomFill.uniform(Tensor.zeros(DType.F32, s.outChannels()), 3, -0.1, 0.1);
        y = Tensor.zeros(DType.F32, s.outputShape());
        plan = ConvPlan.create(s, algorithm(algo), w, b, Activation.IDENTITY, 0f);
    }

    @Benchmark
    public Tensor forward() {
        plan.execute(x, null, y);
        return y;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        x.close(); w.close(); b.close(); y.close();
        ComputePool.setThreads(savedThreads);
    }
}
