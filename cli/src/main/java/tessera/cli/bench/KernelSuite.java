package tessera.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The benchmarks of {@code bench kernels} as JMH invocations. Each job is one JMH run because JMH's {@code -p}
 * applies to every benchmark of a run ({@code shape} means different things to GemmBench and PoolBench).
 * Full runs every parameter the benchmark classes declare; quick runs fewer cases with the same warm-up and
 * measurement, so a quick row and the same full row agree within noise. LenetEpochBench and TrainingStepBench
 * (whole training steps) are not kernels and run only when named.
 *
 * @param label   the benchmark class the job runs (for selection by pattern)
 * @param jmhArgs include patterns, {@code -p} and {@code -t} arguments
 */
public record KernelSuite(String label, List<String> jmhArgs) {
    /**
     * Warm-up and measurement of every job, quick or full: 8 × 1 s of warm-up, then 5 × 1 s measured. Checked with
     * {@code -XX:+PrintCompilation} on a loaded 2-core machine: the hot GEMM and Winograd methods (macro-kernel,
     * block loop, B packing, Winograd task and output stage) reached C2 between the 3rd and the 9th second; with 3 s,
     * Winograd's task was still being compiled in the first measured second.
     */
    public static final List<String> TIMING = List.of("-f", "1", "-wi", "8", "-w", "1s", "-i", "5", "-r", "1s");

    private static final String PKG = "tessera\\.bench\\.";

    /** Every parameter combination the benchmark classes declare. */
    public static List<KernelSuite> full() {
        return List.of(job("PeakFmaBench"), job("GemmBench"), job("ConvBench"), job("PoolBench"),
                job("CopyBench", "-t", "1"), job("CopyBench", "-t", "2"), job("EltwiseBench"), job("ModelBench"));
    }

    /** About 25 cases: the peak, GEMM and convolution on ResNet shapes, pooling, copy, ReLU and one model. */
    public static List<KernelSuite> quick() {
        return List.of(job("PeakFmaBench"),
                new KernelSuite("GemmBench", List.of(PKG + "GemmBench\\.(nn|shape)$", "-p", "size=1024",
                        "-p", "shape=64x3136x576,512x49x4608")),
                job("ConvBench", "-p", "layer=r18_64_56,r18_down_128_56", "-p", "algo=im2col,winograd4,auto"),
                new KernelSuite("PoolBench", List.of(PKG + "PoolBench\\.(maxPool3x3s2|globalAvg)$", "-p", "shape=16x64x112x112")),
                new KernelSuite("CopyBench", List.of(PKG + "CopyBench\\.segmentCopy$", "-p", "shape=64x64x56x56", "-t", "1")),
                new KernelSuite("CopyBench", List.of(PKG + "CopyBench\\.segmentCopy$", "-p", "shape=64x64x56x56", "-t", "2")),
                new KernelSuite("EltwiseBench", List.of(PKG + "EltwiseBench\\.reluForward$")),
                job("ModelBench", "-p", "model=resnet18,vgg16", "-p", "engine=tessera", "-p", "batch=1", "-p", "threads=1"));
    }

    /**
     * The jobs a user's patterns select: each pattern replaces the include pattern of the suite jobs whose class it
     * names (it contains the class name, or matches it), keeping their parameters; a pattern naming no suite class
     * becomes a job of its own. The peak always runs: it is the denominator of "% of peak".
     */
    public static List<KernelSuite> select(List<KernelSuite> suite, List<String> patterns) {
        if (patterns.isEmpty()) return suite;
        List<KernelSuite> out = new ArrayList<>();
        out.add(job("PeakFmaBench"));
        List<String> unmatched = new ArrayList<>(patterns);
        for (KernelSuite j : suite) {
            if (j.label().equals("PeakFmaBench")) continue;
            List<String> mine = patterns.stream().filter(p -> names(p, j.label())).toList();
            if (mine.isEmpty()) continue;
            unmatched.removeAll(mine);
            List<String> args = new ArrayList<>(mine);
            args.addAll(j.jmhArgs().subList(1, j.jmhArgs().size()));
            out.add(new KernelSuite(j.label(), args));
        }
        for (String p : unmatched) out.add(new KernelSuite(p, List.of(p)));
        return out;
    }

    /** The names of the {@code -p name=values} arguments in {@code args}. */
    public static java.util.Set<String> paramNames(List<String> args) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("-p") && args.get(i + 1).contains("=")) names.add(args.get(i + 1).split("=", 2)[0]);
        }
        return names;
    }

    /**
     * {@code args} without its {@code -p name=values} pairs for the given names: JMH merges repeated {@code -p} of one
     * name into one list, so a user's {@code --jmh "-p layer=x"} must replace the suite's values, not add to them.
     */
    public static List<String> withoutParams(List<String> args, java.util.Set<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("-p") && i + 1 < args.size() && names.contains(args.get(i + 1).split("=", 2)[0])) {
                i++;
                continue;
            }
            out.add(args.get(i));
        }
        return out;
    }

    private static boolean names(String pattern, String cls) {
        if (pattern.contains(cls)) return true;
        try {
            return Pattern.compile(pattern).matcher("tessera.bench." + cls).find();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static KernelSuite job(String cls, String... args) {
        List<String> a = new ArrayList<>(List.of(PKG + cls + "\\."));
        a.addAll(List.of(args));
        return new KernelSuite(cls, a);
    }
}
