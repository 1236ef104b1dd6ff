package tessera.properties;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tessera.autograd.GradientCheck;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.gradcheck.CaseGenerator;
import tessera.gradcheck.CaseResult;
import tessera.gradcheck.LayerGradientChecker;

/**
 * For every {@link LayerProvider} the ServiceLoader finds (built-in and plugin): {@value #TRIES} random valid
 * configurations drawn from its argument schema, each built in float64 and checked by finite differences for the
 * input and every parameter ({@link LayerGradientChecker#SETTINGS}: ε 1e-6, atol 1e-5, rtol 1e-3, kink tolerance
 * 1e-3, ≤ 32 coordinates per tensor). QuickTheories shrinks a failure to a small configuration. Layers with
 * {@code gradientCheckable() == false} and the deliberately broken test plugins are reported as skipped (the latter are
 * covered by {@link MutationTest}). A table (tries, worst relative error, kinks skipped) is printed and written to
 * {@code target/gradcheck-report.md}.
 */
class LayerGradientPropertiesTest {
    static final int TRIES = 100;
    private static final Map<String, String> REPORT = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    @TestFactory
    Stream<DynamicTest> everyRegisteredLayerHasCorrectGradients() {
        LayerRegistry registry = LayerRegistry.getDefault();
        LayerGradientChecker checker = new LayerGradientChecker(registry);
        List<DynamicTest> tests = new ArrayList<>();
        for (LayerProvider p : LayerCases.all()) {
            tests.add(DynamicTest.dynamicTest(p.name(), () -> {
                if (!p.gradientCheckable()) {
                    REPORT.put(p.name(), row(p.name(), "skipped: gradientCheckable() is false", 0, 0, 0, 0));
                    Assumptions.abort(p.name() + ": gradientCheckable() is false");
                }
                if (LayerCases.deliberatelyBroken(p)) {
                    REPORT.put(p.name(), row(p.name(), "skipped: deliberately broken (MutationTest)", 0, 0, 0, 0));
                    Assumptions.abort(p.name() + " is a deliberately broken test plugin, checked by MutationTest");
                }
                CaseGenerator gen = CaseGenerator.of(p, registry);
                assertTrue(gen.generatable(), () -> p.name() + ": no configuration can be generated: " + gen.whyNotGeneratable());
                Stats st = new Stats();
                try {
                    qt().withFixedSeed(LayerCases.seed(p.name())).withExamples(LayerCases.examples(TRIES)).withGenerateAttempts(TRIES * 50)
                            .withShrinkCycles(300)
                            .forAll(LayerCases.cases(gen))
                            .checkAssert(c -> {
                                CaseResult r = checker.check(c);
                                st.add(r);
                                assertTrue(r.passed(), () -> c + ": " + r.where() + ": " + r.message());
                            });
                    REPORT.put(p.name(), row(p.name(), "pass", st.tries, st.worstRel, st.kinks, st.checked));
                } catch (AssertionError e) {
                    REPORT.put(p.name(), row(p.name(), "FAIL", st.tries, st.worstRel, st.kinks, st.checked));
                    throw e;
                }
                assertTrue(st.tries >= TRIES, p.name() + ": only " + st.tries + " configurations were checked");
            }));
        }
        return tests.stream();
    }

    private static String row(String name, String status, int tries, double worstRel, long kinks, long checked) {
        return String.format("| %-28s | %-44s | %5d | %9.2e | %6d | %7d |", name, status, tries, worstRel, kinks, checked);
    }

    @AfterAll
    static void writeReport() throws IOException {
        GradientCheck.Settings s = LayerGradientChecker.SETTINGS;
        StringBuilder b = new StringBuilder();
        b.append(String.format("Gradient checks: float64, eps %.0e, pass when |analytic - numeric| <= %.0e + %.0e*|numeric|; "
                + "rel err = |analytic - numeric| / max(|numeric|, %.0e); at most %d coordinates per tensor%n%n",
                s.eps(), s.atol(), s.rtol(), s.atol() / s.rtol(), s.maxCoordinates()));
        b.append(String.format("| %-28s | %-44s | %5s | %9s | %6s | %7s |%n", "layer", "result", "tries", "worst rel", "kinks", "checked"));
        b.append("|------------------------------|----------------------------------------------|-------|-----------|--------|---------|\n");
        for (String r : REPORT.values()) b.append(r).append('\n');
        System.out.println(b);
        Path out = Path.of("target", "gradcheck-report.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, b.toString());
    }

    /** Accumulated over the tries of one layer (QuickTheories' shrinking calls add more; the table counts all). */
    static final class Stats {
        int tries;
        long checked, kinks;
        double worstRel;

        synchronized void add(CaseResult r) {
            tries++;
            checked += r.checked();
            kinks += r.skippedKinks();
            if (!Double.isNaN(r.worstRelError())) worstRel = Math.max(worstRel, r.worstRelError());
        }
    }
}
