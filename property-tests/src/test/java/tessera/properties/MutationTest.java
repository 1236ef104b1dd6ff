package tessera.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.properties.plugins.DeliberatelyBroken;
import tessera.cli.GradcheckCommand;
import tessera.gradcheck.CaseGenerator;
import tessera.gradcheck.CaseResult;
import tessera.gradcheck.GradcheckRunner;
import tessera.gradcheck.LayerCase;
import tessera.gradcheck.LayerGradientChecker;

/**
 * Proof that the checks catch bugs: each deliberately broken test plugin (a sign error, an off-by-one index, a
 * parameter without gradient) must make the property fail — both the QuickTheories property (whose shrinking must
 * reach a tiny counterexample: batch 1, at most 2 input elements, the bug in the expected tensor) and the
 * {@link GradcheckRunner} behind {@code ./tessera gradcheck} (greedy shrinking, non-zero exit). These tests pass when
 * the check fails, so the mutants never turn the build red.
 */
class MutationTest {
    private static final LayerRegistry REGISTRY = LayerRegistry.getDefault();

    static List<LayerProvider> mutants() {
        return LayerCases.all().stream().filter(LayerCases::deliberatelyBroken).toList();
    }

    @Test
    void theThreeMutantsAreRegisteredThroughServiceLoader() {
        List<String> names = mutants().stream().map(LayerProvider::name).sorted().toList();
        assertEquals(List.of("MutantMissingGradientAffine", "MutantOffByOneShift", "MutantSignErrorSoftsign"), names);
    }

    @TestFactory
    Stream<DynamicTest> quickTheoriesCatchesEveryMutantWithASmallCounterexample() {
        LayerGradientChecker checker = new LayerGradientChecker(REGISTRY);
        List<DynamicTest> tests = new ArrayList<>();
        for (LayerProvider p : mutants()) {
            DeliberatelyBroken bug = (DeliberatelyBroken) p;
            tests.add(DynamicTest.dynamicTest(p.name(), () -> {
                CaseGenerator gen = CaseGenerator.of(p, REGISTRY);
                List<LayerCase> failing = new ArrayList<>();
                List<CaseResult> results = new ArrayList<>();
                AssertionError caught = assertThrows(AssertionError.class, () ->
                        qt().withFixedSeed(LayerCases.seed(p.name())).withExamples(100).withGenerateAttempts(5000)
                                .withShrinkCycles(500)
                                .forAll(LayerCases.cases(gen))
                                .checkAssert(c -> {
                                    CaseResult r = checker.check(c);
                                    if (!r.passed()) { failing.add(c); results.add(r); }
                                    assertTrue(r.passed(), () -> c + ": " + r.where() + ": " + r.message());
                                }), p.name() + " (" + bug.bug() + ") was NOT caught by the gradient check");
                assertFalse(failing.isEmpty());
                int best = 0;
                for (int i = 1; i < failing.size(); i++) {
                    if (SIZE.compare(failing.get(i), failing.get(best)) < 0) best = i;
                }
                LayerCase smallest = failing.get(best);
                CaseResult r = results.get(best);
                System.out.println("caught " + p.name() + " (" + bug.bug() + "): smallest counterexample " + smallest
                        + " — " + r.where() + ": " + r.message());
                assertTrue(caught.getMessage().contains("Smallest found falsifying value"), caught.getMessage());
                assertEquals(1, smallest.batch(), "shrinking should reach batch 1: " + smallest);
                assertTrue(smallest.inputSize() <= 2, "shrinking should reach a tiny input: " + smallest);
                assertEquals(bug.affectedTensor(), r.tensor(), "the failure should be reported in " + bug.affectedTensor());
            }));
        }
        return tests.stream();
    }

    private static final Comparator<LayerCase> SIZE = Comparator.comparingLong(LayerCase::inputSize)
            .thenComparingInt(LayerCase::batch).thenComparingLong(LayerCase::seed);

    @TestFactory
    Stream<DynamicTest> gradcheckRunnerCatchesEveryMutantAndShrinksIt() {
        GradcheckRunner runner = new GradcheckRunner(REGISTRY);
        return mutants().stream().map(p -> DynamicTest.dynamicTest(p.name(), () -> {
            DeliberatelyBroken bug = (DeliberatelyBroken) p;
            GradcheckRunner.LayerReport r = runner.run(p, 100, 7);
            assertEquals(GradcheckRunner.Status.FAIL, r.status(), p.name() + " (" + bug.bug() + ") was NOT caught");
            assertNotNull(r.failingCase());
            System.out.println("gradcheck runner caught " + p.name() + " after " + r.tries() + " tries; minimal "
                    + r.failingCase() + " — " + r.failure().where() + ": " + r.failure().message());
            assertEquals(1, r.failingCase().batch(), r.failingCase().toString());
            assertTrue(r.failingCase().inputSize() <= 2, r.failingCase().toString());
            assertEquals(bug.affectedTensor(), r.failure().tensor());
        }));
    }

    @Test
    void gradcheckCommandExitsNonZeroOnAMutantAndZeroOnACorrectPlugin() {
        assertEquals(1, new CommandLine(new GradcheckCommand()).execute("--layer", "MutantOffByOneShift", "--tries", "20"));
        assertEquals(1, new CommandLine(new GradcheckCommand()).execute("--layer", "MutantMissingGradientAffine", "--tries", "20"));
        assertEquals(0, new CommandLine(new GradcheckCommand()).execute("--layer", "ScaledTanh", "--layer", "Conv2d", "--tries", "20"));
    }

    @Test
    void theCorrectPluginPassesTheRunner() {
        GradcheckRunner.LayerReport r = new GradcheckRunner(REGISTRY).run(REGISTRY.provider("ScaledTanh"), 100, 3);
        assertEquals(GradcheckRunner.Status.PASS, r.status(), () -> r.failingCase() + ": " + (r.failure() == null ? r.note() : r.failure().message()));
        assertEquals(100, r.tries());
    }
}
