package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report logic on a recorded {@code bench kernels --quick --out} run of the AVX-512 development machine
 * ({@code quick-results.json}, its {@code quick-jmh.log}); scores are converted by the real benchmark classes'
 * flops/bytes conventions (tessera-bench is a test dependency).
 */
class RecordedReportTest {
    private static ResultsFile recorded() throws IOException {
        return ResultsFile.parse(SkippedRowsTest.resource("quick-results.json"), "quick-results.json");
    }

    private static JmhResultTable table(ResultsFile f) {
        JmhResultTable t = new JmhResultTable(RecordedReportTest.class.getClassLoader());
        t.add(f.jmh());
        SkippedRows.removeFrom(t, f.skipped());
        return t;
    }

    @Test
    void headerNamesTheIsaTheSpeciesAndTheMeasuredPeak() throws IOException {
        ReportHeader h = recorded().header();
        assertNotNull(h);
        assertTrue(h.isa().contains("avx512f"), h.isa().toString());
        assertEquals(32, h.vectorRegisters());
        String text = String.join("\n", h.lines());
        assertTrue(text.contains("ISA avx2 avx512f fma"), text);
        assertTrue(text.contains("512-bit float (16 lanes), 32 vector registers"), text);
        JmhResultTable t = table(recorded());
        assertEquals(t.peak(1), h.peak1(), 1e-9); // the header's peak is PeakFmaBench of the same run
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "%.1f GFLOP/s on 1 thread", t.peak(1))), text);
        assertTrue(h.markdown().contains("| measured FMA peak | "), h.markdown());
    }

    @Test
    void aTwoThreadPeakBelowTheOneThreadPeakWarnsThatTheCoresWereShared() throws IOException {
        ReportHeader h = recorded().header(); // recorded while other engineers' builds ran: 50.8 GFLOP/s on 2 threads, 82.9 on 1
        assertTrue(h.peakAll() < h.peak1());
        assertEquals(1, h.warnings().size(), h.warnings().toString());
        assertTrue(h.warnings().get(0).contains("other work shared the cores"));
        assertTrue(h.lines().stream().anyMatch(l -> l.startsWith("Warning ")));
        ReportHeader quiet = new ReportHeader(h.date(), h.suite(), h.tessera(), h.commit(), h.cpu(), h.cores(), h.threads(), h.isa(),
                h.species(), h.vectorRegisters(), h.gemmKernel(), h.jdk(), h.jdkVendor(), 83.8, 166.9, 2, 0.2);
        assertTrue(quiet.warnings().isEmpty());
        ReportHeader busy = new ReportHeader(h.date(), h.suite(), h.tessera(), h.commit(), h.cpu(), h.cores(), h.threads(), h.isa(),
                h.species(), h.vectorRegisters(), h.gemmKernel(), h.jdk(), h.jdkVendor(), 83.8, 166.9, 2, 5.9);
        assertEquals(List.of("busy machine: load average 5.9 on 2 hardware threads before the run"), busy.warnings());
    }

    @Test
    void theLogOfTheRunGivesTheSameSkippedRowsAsTheFileAndTheGemmKernel() throws IOException {
        String log = SkippedRowsTest.resource("quick-jmh.log");
        assertEquals(recorded().skipped(), SkippedRows.fromLog(log));
        assertTrue(tessera.cli.BenchKernelsCommandAccess.gemmKernel(log).startsWith("f32-gemm-6x2v-avx512 (512-bit, 32 registers)"));
    }

    @Test
    void tableHasNoZeroRowsAndListsEachSkippedCombinationOnce() throws IOException {
        ResultsFile f = recorded();
        JmhResultTable t = table(f);
        KernelTable k = KernelTable.build(t, f.skipped(), null, null);
        assertEquals(f.jmh().size(), k.rows().size());
        for (List<String> row : k.rows()) {
            assertTrue(Double.parseDouble(row.get(3)) > 0, row.toString());
        }
        assertEquals(2, k.skipped().size());
        assertEquals(1, k.skipped().stream().filter(s -> s.contains("algo=winograd4") && s.contains("r18_down_128_56")
                && s.contains("Winograd needs a 3x3 kernel with stride 1")).count());
        assertEquals(1, k.skipped().stream().filter(s -> s.contains("model=vgg16") && s.contains("is absent")).count());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TextTable.print(k, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("vgg16 ") && out.lines().anyMatch(l -> l.startsWith("Model.infer") && l.contains("vgg16")), out);
        assertTrue(out.lines().count() < 40, out);
    }

    @Test
    void percentOfPeakUsesThePeakOfTheRowsThreadCount() throws IOException {
        JmhResultTable t = table(recorded());
        JmhResultTable.Row gemm = t.rows().stream().filter(r -> r.kernel().equals("Gemm.nn") && r.threads() == 2).findFirst().orElseThrow();
        assertEquals(100 * gemm.rate() / t.peak(2), t.percentOfPeak(gemm), 1e-9);
        assertEquals(2.0 * 1024 * 1024 * 1024 * gemm.opsPerSec() / 1e9, gemm.rate(), 1e-6); // GemmBench.flops
    }

    @Test
    void markdownReportHasTheHeaderTheChartAndAWellFormedTable() throws IOException {
        ResultsFile f = recorded();
        KernelTable k = KernelTable.build(table(f), f.skipped(), null, null);
        String md = MarkdownReport.render(f.header(), k, null, "kernels.png");
        assertTrue(md.contains("| ISA | avx2 avx512f fma |"), md);
        assertTrue(md.contains("![% of peak per kernel and thread count](kernels.png)"), md);
        List<String> tableLines = md.lines().filter(l -> l.startsWith("| kernel") || l.startsWith("|---|---|---:|") || l.matches("\\| \\w+\\.\\w+ .*")).toList();
        assertEquals(2 + k.rows().size(), tableLines.size(), md);
        int columns = k.header().size();
        for (String l : tableLines) assertEquals(columns + 1, l.replace("\\|", "").chars().filter(c -> c == '|').count(), l);
        assertTrue(md.contains("Did not run:\n\n- skipped Conv.forward"), md);
    }

    @Test
    void resultsFileRoundTripsHeaderSkippedRowsAndJmhResults(@TempDir Path dir) throws IOException {
        ResultsFile f = recorded();
        Path file = dir.resolve("results.json");
        new ResultsFile(f.header(), f.jmh(), f.skipped(), Map.of("k", 1.5)).write(file);
        ResultsFile back = ResultsFile.read(file);
        assertEquals(f.header(), back.header());
        assertEquals(f.skipped(), back.skipped());
        assertEquals(f.jmh(), back.jmh());
        assertEquals(Map.of("k", 1.5), back.torch());
        ResultsFile plain = ResultsFile.parse(SkippedRowsTest.resource("skips-jmh.json"), "plain");
        assertNull(plain.header());
        assertEquals(2, plain.jmh().size());
    }

    @Test
    void againstItselfEveryRatioIsOneAndNothingIsFlagged() throws IOException {
        ResultsFile f = recorded();
        JmhResultTable t = table(f);
        BaselineComparison b = new BaselineComparison(table(f), f.header(), 0.05);
        KernelTable k = KernelTable.build(t, f.skipped(), b, null);
        int ratio = k.header().indexOf("new/old");
        assertTrue(ratio > 0);
        for (List<String> row : k.rows()) {
            assertEquals("1.00", row.get(ratio), row.toString());
            assertEquals("", row.get(ratio + 2), row.toString());
        }
        assertTrue(b.onlyInBaseline(t).isEmpty());
        assertEquals("", MarkdownReport.sameMachineNote(f.header(), b));
    }

    @Test
    void aHalvedScoreIsARegressionAndADoubledOneIsFasterOthersUnflagged() throws IOException {
        ResultsFile f = recorded();
        List<Object> changed = new ArrayList<>();
        for (Object o : f.jmh()) changed.add(deepCopy(o));
        scale(changed, "tessera.bench.GemmBench.nn", "1", 0.5);
        scale(changed, "tessera.bench.PoolBench.maxPool3x3s2", "1", 2.0);
        JmhResultTable now = new JmhResultTable(getClass().getClassLoader());
        now.add(changed);
        BaselineComparison b = new BaselineComparison(table(f), f.header(), 0.05);
        Map<String, BaselineComparison.Verdict> verdicts = new LinkedHashMap<>();
        for (JmhResultTable.Row r : now.rows()) verdicts.put(r.kernel() + " t" + r.threads(), b.compare(r).verdict());
        // the recorded Gemm.nn 1-thread error is 81% of the score: halving it is still inside the combined interval
        JmhResultTable.Row nn1 = now.rows().stream().filter(r -> r.kernel().equals("Gemm.nn") && r.threads() == 1).findFirst().orElseThrow();
        BaselineComparison.Ratio q = b.compare(nn1);
        assertEquals(0.5, q.ratio(), 1e-12);
        assertEquals(0.5 * Math.sqrt(2) * nn1.relErr(), q.error(), 1e-12);
        assertEquals(q.ratio() + q.error() < 0.95 ? BaselineComparison.Verdict.REGRESSION : BaselineComparison.Verdict.SAME,
                verdicts.get("Gemm.nn t1"));
        assertEquals(BaselineComparison.Verdict.FASTER, verdicts.get("Pool.maxPool3x3s2 t1")); // recorded error 26%
        long flagged = verdicts.values().stream().filter(v -> v != BaselineComparison.Verdict.SAME).count();
        assertEquals(verdicts.get("Gemm.nn t1") == BaselineComparison.Verdict.SAME ? 1 : 2, flagged, verdicts.toString());
    }

    @Test
    void aBaselineFromAnotherMachineIsSaidToBeOne() throws IOException {
        ReportHeader h = recorded().header();
        ReportHeader other = new ReportHeader(h.date(), h.suite(), h.tessera(), h.commit(), "Intel Xeon", 4, 8,
                List.of("avx2", "fma"), "256-bit float (8 lanes)", 16, "f32-gemm-4x2v-avx2", h.jdk(), h.jdkVendor(), 50.0, 180.0, 8, 0.1);
        BaselineComparison b = new BaselineComparison(table(recorded()), other, 0.05);
        assertTrue(MarkdownReport.sameMachineNote(h, b).contains("another machine"));
        String md = MarkdownReport.render(h, KernelTable.build(table(recorded()), List.of(), b, null), b, null);
        assertTrue(md.contains("Baseline: Intel Xeon (avx2 fma, 8 threads)"), md);
    }

    @SuppressWarnings("unchecked")
    private static void scale(List<Object> results, String benchmark, String threads, double factor) {
        for (Object o : results) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> params = (Map<String, Object>) r.get("params");
            if (r.get("benchmark").equals(benchmark) && params != null && threads.equals(params.get("threads"))) {
                Map<String, Object> pm = (Map<String, Object>) r.get("primaryMetric");
                pm.put("score", ((Number) pm.get("score")).doubleValue() * factor);
                pm.put("scoreError", ((Number) pm.get("scoreError")).doubleValue() * factor);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Object deepCopy(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> c = new LinkedHashMap<>();
            m.forEach((k, v) -> c.put((String) k, deepCopy(v)));
            return c;
        }
        if (o instanceof List<?> l) return new ArrayList<>(l.stream().map(RecordedReportTest::deepCopy).toList());
        return o;
    }
}
