package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class KernelSuiteTest {
    @Test
    void quickRunsTheSameClassesAsFullWithParametersNarrowed() {
        List<String> full = KernelSuite.full().stream().map(KernelSuite::label).distinct().toList();
        List<String> quick = KernelSuite.quick().stream().map(KernelSuite::label).distinct().toList();
        assertEquals(full, quick);
        assertTrue(KernelSuite.quick().stream().skip(1).noneMatch(KernelSuite.full()::contains), "every quick job but the peak narrows its cases");
        assertEquals(List.of("-wi", "8", "-w", "1s"), KernelSuite.TIMING.subList(2, 6), "quick or full, 8 s of warm-up");
    }

    @Test
    void aPatternReplacesTheIncludeOfTheJobsItNamesAndKeepsTheirParameters() {
        List<KernelSuite> s = KernelSuite.select(KernelSuite.quick(), List.of("GemmBench.nn"));
        assertEquals(2, s.size());
        assertEquals("PeakFmaBench", s.get(0).label());
        assertEquals(List.of("GemmBench.nn", "-p", "size=1024", "-p", "shape=64x3136x576,512x49x4608"), s.get(1).jmhArgs());
    }

    @Test
    void aPatternThatNamesNoSuiteClassBecomesItsOwnJob() {
        List<KernelSuite> s = KernelSuite.select(KernelSuite.full(), List.of("LenetEpochBench", "Copy"));
        assertEquals(List.of("PeakFmaBench", "CopyBench", "CopyBench", "LenetEpochBench"), s.stream().map(KernelSuite::label).toList());
        assertEquals(List.of("Copy", "-t", "2"), s.get(2).jmhArgs());
    }

    @Test
    void aUserParamReplacesTheSuitesValuesOfThatName() {
        List<String> job = KernelSuite.quick().get(2).jmhArgs(); // ConvBench: -p layer=… -p algo=…
        List<String> out = KernelSuite.withoutParams(job, KernelSuite.paramNames(List.of("-wi", "10", "-p", "layer=r18_64_56")));
        assertEquals(List.of(job.get(0), "-p", "algo=im2col,winograd4,auto"), out);
        assertEquals(job, KernelSuite.withoutParams(job, KernelSuite.paramNames(List.of("-p", "size=1"))));
    }

    @Test
    void jmhListOutputCountsEveryParameterCombination() {
        List<String> lp = List.of("WARNING: Using incubator modules: jdk.incubator.vector", "Benchmarks: ",
                "tessera.bench.GemmBench.nn", "  param \"size\" = {1024}", "  param \"threads\" = {1, 2}",
                "tessera.bench.GemmBench.shape", "  param \"shape\" = {64x3136x576, 128x784x1152, 256x196x2304}",
                "  param \"threads\" = {1, 2}", "tessera.bench.PeakFmaBench.allThreads", "tessera.bench.PeakFmaBench.oneThread");
        assertEquals(2 + 6 + 1 + 1, JmhProcess.countCases(lp));
        assertEquals(0, JmhProcess.countCases(List.of("Benchmarks: ")));
    }
}
