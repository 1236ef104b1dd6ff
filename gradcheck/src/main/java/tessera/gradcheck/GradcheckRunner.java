package tessera.gradcheck;

import java.util.Optional;
import java.util.SplittableRandom;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;

/**
 * Property-based gradient checking without a test framework: draws random configurations of a layer from its schema
 * ({@link CaseGenerator}), checks each ({@link LayerGradientChecker}) and, on the first failure, shrinks greedily —
 * each gene in turn is lowered to the smallest value that still decodes to a valid, still failing configuration,
 * until no gene can be lowered — so the reported counterexample has small arguments, a small input and batch 1
 * where the failure allows.
 */
public final class GradcheckRunner {
    /** Outcome per layer. */
    public enum Status { PASS, FAIL, NOT_CHECKABLE, NOT_GENERATABLE }

    /**
     * @param tries          configurations checked
     * @param invalidDraws   draws that decoded to an invalid configuration (discarded)
     * @param checked        coordinates compared over all tries
     * @param skippedKinks   coordinates skipped at kinks over all tries
     * @param failingCase    the shrunk counterexample, or null
     * @param failure        its result, or null
     * @param shrinkSteps    accepted shrinking steps
     */
    public record LayerReport(String layer, Status status, int tries, int invalidDraws, double worstRelError,
                              long checked, long skippedKinks, LayerCase failingCase, CaseResult failure,
                              int shrinkSteps, String note) {}

    /** Draws per requested try before giving up on finding valid configurations. */
    static final int MAX_DRAWS_PER_TRY = 50;
    /** Gradient checks spent on shrinking at most. */
    static final int MAX_SHRINK_CHECKS = 400;

    private final LayerRegistry registry;
    private final LayerGradientChecker checker;

    public GradcheckRunner(LayerRegistry registry) {
        this.registry = registry;
        this.checker = new LayerGradientChecker(registry);
    }

    public LayerGradientChecker checker() { return checker; }

    /** Checks {@code tries} random valid configurations of {@code provider} (deterministic in {@code seed}). */
    public LayerReport run(LayerProvider provider, int tries, long seed) {
        if (tries < 1) throw new IllegalArgumentException("tries must be >= 1, got " + tries);
        String name = provider.name();
        if (!provider.gradientCheckable()) {
            return new LayerReport(name, Status.NOT_CHECKABLE, 0, 0, 0, 0, 0, null, null, 0,
                    "gradientCheckable() is false (container or needs paired inputs)");
        }
        CaseGenerator gen = CaseGenerator.of(provider, registry);
        if (!gen.generatable()) {
            return new LayerReport(name, Status.NOT_GENERATABLE, 0, 0, 0, 0, 0, null, null, 0, gen.whyNotGeneratable());
        }
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        int done = 0, invalid = 0;
        long checked = 0, kinks = 0;
        double worst = 0;
        while (done < tries && invalid < (long) tries * MAX_DRAWS_PER_TRY) {
            int[] genes = gen.random(rnd);
            Optional<LayerCase> c = gen.decode(genes);
            if (c.isEmpty()) { invalid++; continue; }
            CaseResult r = checker.check(c.get());
            done++;
            checked += r.checked();
            kinks += r.skippedKinks();
            if (!r.passed()) {
                Shrunk s = shrink(gen, genes, c.get(), r);
                return new LayerReport(name, Status.FAIL, done, invalid, Double.isNaN(r.worstRelError()) ? worst : Math.max(worst, r.worstRelError()),
                        checked, kinks, s.c, s.r, s.steps, "");
            }
            worst = Math.max(worst, r.worstRelError());
        }
        if (done < tries) {
            return new LayerReport(name, Status.FAIL, done, invalid, worst, checked, kinks, null, null, 0,
                    "only " + done + " of " + tries + " draws gave a valid configuration (" + invalid
                            + " invalid): the schema's sample ranges or sampleInputShape produce invalid layers");
        }
        return new LayerReport(name, Status.PASS, done, invalid, worst, checked, kinks, null, null, 0, "");
    }

    private record Shrunk(LayerCase c, CaseResult r, int steps) {}

    /** Greedy shrinking: lower each gene to the smallest value that keeps the configuration valid and failing. */
    private Shrunk shrink(CaseGenerator gen, int[] genes, LayerCase c, CaseResult r) {
        int[] g = genes.clone();
        int budget = MAX_SHRINK_CHECKS, steps = 0;
        boolean progress = true;
        while (progress && budget > 0) {
            progress = false;
            for (int i = 0; i < g.length && budget > 0; i++) {
                for (int v = 0; v < g[i] && budget > 0; v++) {
                    int[] t = g.clone();
                    t[i] = v;
                    Optional<LayerCase> tc = gen.decode(t);
                    if (tc.isEmpty()) continue;
                    budget--;
                    CaseResult tr = checker.check(tc.get());
                    if (!tr.passed()) {
                        g = t; c = tc.get(); r = tr; steps++;
                        progress = true;
                        break;
                    }
                }
            }
        }
        return new Shrunk(c, r, steps);
    }
}
