package tessera.cli.bench;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns JMH JSON results into the kernel report table: kernel, params, threads, GFLOP/s or GB/s, % of peak, alloc.
 *
 * <p>Naming convention for benchmark classes (package {@code tessera.bench}), looked up by reflection:
 * <ul>
 *   <li>{@code public static double flops(String method, java.util.Map<String, String> params)}: floating-point
 *       operations of one benchmark operation → the row shows GFLOP/s and % of the measured FMA peak;</li>
 *   <li>{@code public static double bytes(String method, java.util.Map<String, String> params)}: bytes moved (read +
 *       written) by one operation → the row shows GB/s and % of the copy bandwidth (the best {@code CopyBench} result
 *       at the same thread count, when that benchmark ran);</li>
 *   <li>neither: the raw JMH score and unit are shown.</li>
 * </ul>
 * The FMA peak is {@code PeakFmaBench.oneThread} (1 thread) and {@code PeakFmaBench.allThreads}. A row's thread
 * count is its {@code threads} param when present (kernels that use the compute pool), otherwise JMH's thread count.
 * Throughput and time-per-operation modes are both converted.
 */
public final class JmhResultTable {
    /**
     * One parsed JMH result: {@code threads} is the row's thread count (its {@code threads} param, else JMH's),
     * {@code jmhThreads} JMH's own; {@code relErr} is JMH's 99.9% error half-width over the score.
     */
    public record Row(String className, String method, Map<String, String> params, int threads, int jmhThreads,
            double opsPerSec, double relErr, double rate, String unit, Double allocBytesPerOp) {
        /** Class simple name without "Bench" and the method, e.g. {@code Gemm.nn}. */
        public String kernel() { return kernelName(className, method); }

        /** The params other than {@code threads}, "k=v" separated by spaces, in name order. */
        public String paramsText() { return JmhResultTable.paramsText(params); }

        /** Identifies the same measurement in another run: benchmark, params and JMH threads. */
        public String key() { return JmhResultTable.key(className + "." + method, params, jmhThreads); }

        boolean isClass(String simpleName) { return simpleName(className).equals(simpleName); }
    }

    /** {@code Gemm.nn} for {@code tessera.bench.GemmBench} and {@code nn}. */
    static String kernelName(String className, String method) {
        String simple = simpleName(className);
        if (simple.endsWith("Bench")) simple = simple.substring(0, simple.length() - 5);
        return simple + "." + method;
    }

    static String paramsText(Map<String, String> params) {
        StringBuilder p = new StringBuilder();
        new TreeMap<>(params).forEach((k, v) -> {
            if (!k.equals("threads")) p.append(p.length() == 0 ? "" : " ").append(k).append('=').append(v);
        });
        return p.toString();
    }

    static String key(String benchmark, Map<String, String> params, int jmhThreads) {
        return benchmark + " " + new TreeMap<>(params) + " t" + jmhThreads;
    }

    /** The class name after the last '.' or '$'. */
    static String simpleName(String cls) { return cls.substring(Math.max(cls.lastIndexOf('.'), cls.lastIndexOf('$')) + 1); }

    private final ClassLoader loader;
    final List<Row> rows = new ArrayList<>();

    /** {@code loader} finds the benchmark classes whose {@code flops}/{@code bytes} conventions convert scores. */
    public JmhResultTable(ClassLoader loader) { this.loader = loader; }

    /** The rows in the order they were added. */
    public List<Row> rows() { return rows; }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Parses a JMH JSON result file (Jackson: objects → Map, arrays → List, numbers → Number). */
    public static Object parse(String text) {
        try {
            return JSON.readValue(text, Object.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("JMH result file is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Adds every result of a parsed JMH JSON array. */
    @SuppressWarnings("unchecked")
    public void add(Object json) {
        if (!(json instanceof List<?> list)) throw new IllegalArgumentException("JMH result file: expected a JSON array at the top");
        for (Object o : list) {
            Map<String, Object> r = (Map<String, Object>) o;
            String bench = (String) r.get("benchmark");
            int dot = bench.lastIndexOf('.');
            String cls = bench.substring(0, dot), method = bench.substring(dot + 1);
            Map<String, String> params = new TreeMap<>();
            if (r.get("params") instanceof Map<?, ?> p) p.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            int jmhThreads = ((Number) r.get("threads")).intValue();
            int threads = params.containsKey("threads") ? parseIntOr(params.get("threads"), jmhThreads) : jmhThreads;
            Map<String, Object> pm = (Map<String, Object>) r.get("primaryMetric");
            double score = num(pm.get("score")), err = num(pm.get("scoreError"));
            double opsPerSec = toOpsPerSec(score, (String) pm.get("scoreUnit"));
            double relErr = score == 0 || Double.isNaN(err) ? Double.NaN : Math.abs(err / score);
            Double alloc = null;
            if (r.get("secondaryMetrics") instanceof Map<?, ?> sm && sm.get("gc.alloc.rate.norm") instanceof Map<?, ?> g) {
                alloc = num(g.get("score"));
            }
            double rate;
            String unit;
            Double flops = convention(cls, "flops", method, params);
            Double bytes = flops == null ? convention(cls, "bytes", method, params) : null;
            if (flops != null) {
                rate = flops * opsPerSec / 1e9;
                unit = "GFLOP/s";
            } else if (bytes != null) {
                rate = bytes * opsPerSec / 1e9;
                unit = "GB/s";
            } else {
                rate = score;
                unit = (String) pm.get("scoreUnit");
            }
            rows.add(new Row(cls, method, params, threads, jmhThreads, opsPerSec, relErr, rate, unit, alloc));
        }
    }

    private static int parseIntOr(String s, int dflt) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static double num(Object o) {
        if (o instanceof Number n) return n.doubleValue();
        return Double.NaN; // JMH writes "NaN" as a string
    }

    /** Converts a JMH score to operations per second (throughput units "ops/X", time units "X/op"). */
    static double toOpsPerSec(double score, String unit) {
        String[] parts = unit.split("/");
        if (parts.length != 2) throw new IllegalArgumentException("unknown JMH score unit '" + unit + "'");
        if (parts[0].equals("ops")) return score / seconds(parts[1]);
        if (parts[1].equals("op")) return 1.0 / (score * seconds(parts[0]));
        throw new IllegalArgumentException("unknown JMH score unit '" + unit + "'");
    }

    private static double seconds(String u) {
        return switch (u) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            case "min" -> 60;
            default -> throw new IllegalArgumentException("unknown time unit '" + u + "' in a JMH score unit");
        };
    }

    private Double convention(String cls, String name, String method, Map<String, String> params) {
        try {
            Class<?> c = Class.forName(cls, false, loader);
            Method m = c.getMethod(name, String.class, Map.class);
            if (!Modifier.isStatic(m.getModifiers())) return null;
            return ((Number) m.invoke(null, method, params)).doubleValue();
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** The FMA peak (GFLOP/s) for {@code threads} threads, or NaN when PeakFmaBench did not run. */
    public double peak(int threads) {
        double one = Double.NaN, all = Double.NaN;
        int allThreads = 0;
        for (Row r : rows) {
            if (!simpleName(r.className()).equals("PeakFmaBench")) continue;
            if (r.method().equals("oneThread")) one = r.rate();
            if (r.method().equals("allThreads")) {
                all = r.rate();
                allThreads = r.threads();
            }
        }
        if (threads <= 1) return one;
        if (!Double.isNaN(all) && threads >= allThreads) return all;
        return Double.isNaN(one) ? Double.NaN : Math.min(one * threads, Double.isNaN(all) ? Double.MAX_VALUE : all);
    }

    /** The best copy bandwidth (GB/s) measured at {@code threads} threads, or NaN. */
    double copyBandwidth(int threads) {
        double best = Double.NaN;
        for (Row r : rows) {
            if (simpleName(r.className()).equals("CopyBench") && r.unit().equals("GB/s") && r.threads() == threads) {
                best = Double.isNaN(best) ? r.rate() : Math.max(best, r.rate());
            }
        }
        return best;
    }

    /** The thread count of the {@code PeakFmaBench.allThreads} row, or 0 when it did not run. */
    public int allThreadsCount() {
        return rows.stream().filter(r -> r.isClass("PeakFmaBench") && r.method().equals("allThreads"))
                .mapToInt(Row::threads).findFirst().orElse(0);
    }

    /**
     * The row's rate as a percentage of the measured FMA peak (GFLOP/s rows) or of the copy bandwidth at the same
     * thread count (GB/s rows); NaN for the reference rows themselves and when the denominator was not measured.
     */
    public double percentOfPeak(Row r) {
        if (r.isClass("PeakFmaBench") || r.isClass("CopyBench")) return Double.NaN;
        double denom = r.unit().equals("GFLOP/s") ? peak(r.threads()) : r.unit().equals("GB/s") ? copyBandwidth(r.threads()) : Double.NaN;
        return 100 * r.rate() / denom;
    }

    /** Prints the plain table (no baseline, no skipped rows) as {@code bench kernels} does. */
    void print(PrintStream out) {
        TextTable.print(KernelTable.build(this, List.of(), null, null), out);
    }
}
