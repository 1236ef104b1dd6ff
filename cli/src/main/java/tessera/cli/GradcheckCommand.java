package tessera.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.autograd.GradientCheck;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.gradcheck.GradcheckRunner;
import tessera.gradcheck.GradcheckRunner.LayerReport;
import tessera.gradcheck.GradcheckRunner.Status;
import tessera.gradcheck.LayerGradientChecker;

/**
 * {@code ./tessera gradcheck}: finite-difference gradient checks (input and every parameter, float64) of registered
 * layers over random configurations drawn from their schemas, with a greedily shrunk counterexample on failure.
 * Exit status 0 when everything checked passes, 1 when anything fails.
 */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = {"Verify layers' analytic gradients (input and every parameter) against central finite differences, "
                + "in float64, over random configurations drawn from each layer's argument schema.",
                "On failure, prints the smallest failing configuration found and the offending parameter and index; "
                        + "exits non-zero when anything fails."})
public final class GradcheckCommand implements Callable<Integer> {
    @Option(names = "--layer", paramLabel = "NAME", description = "check only this layer (repeatable; default: all)")
    List<String> layers;

    @Option(names = "--tries", paramLabel = "N", defaultValue = "100", description = "configurations per layer (default ${DEFAULT-VALUE})")
    int tries;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--plugin", paramLabel = "JAR", description = "add a plugin jar (repeatable)")
    List<Path> plugins;

    @Override
    public Integer call() {
        if (tries < 1 || tries > 1_000_000) throw new IllegalArgumentException("--tries must be in [1, 1000000], got " + tries);
        LayerRegistry registry = Plugins.registry(plugins);
        List<LayerProvider> chosen = new ArrayList<>();
        if (layers == null || layers.isEmpty()) {
            chosen.addAll(registry.providers());
        } else {
            for (String n : layers) chosen.add(registry.provider(n));   // unknown names: error with suggestions
        }
        GradientCheck.Settings s = LayerGradientChecker.SETTINGS;
        System.out.printf("gradcheck: %d layer(s), %d tries each, seed %d; float64, eps %.0e, pass when |analytic - numeric| <= %.0e + %.0e*|numeric|%n",
                chosen.size(), tries, seed, s.eps(), s.atol(), s.rtol());
        GradcheckRunner runner = new GradcheckRunner(registry);
        int failed = 0, passed = 0, skipped = 0;
        for (LayerProvider p : chosen) {
            long t0 = System.nanoTime();
            LayerReport r = runner.run(p, tries, seed);
            double secs = (System.nanoTime() - t0) / 1e9;
            switch (r.status()) {
                case PASS -> {
                    passed++;
                    System.out.printf("PASS  %-28s tries %4d  worst rel err %.2e  kinks skipped %d of %d coords  (%.1fs)%n",
                            r.layer(), r.tries(), r.worstRelError(), r.skippedKinks(), r.skippedKinks() + r.checked(), secs);
                }
                case FAIL -> {
                    failed++;
                    System.out.printf("FAIL  %-28s tries %4d  worst rel err %.2e  kinks skipped %d of %d coords  (%.1fs)%n",
                            r.layer(), r.tries(), r.worstRelError(), r.skippedKinks(), r.skippedKinks() + r.checked(), secs);
                    if (r.failingCase() != null) {
                        System.out.println("      minimal configuration (" + r.shrinkSteps() + " shrink steps): " + r.failingCase().argsJson());
                        System.out.println("      input shape " + java.util.Arrays.toString(r.failingCase().batchShape())
                                + (r.failingCase().training() ? ", training mode" : ", eval mode") + ", data seed " + r.failingCase().seed());
                        System.out.println("      offending " + r.failure().where() + ": " + r.failure().message());
                    } else {
                        System.out.println("      " + r.note());
                    }
                }
                case NOT_CHECKABLE, NOT_GENERATABLE -> {
                    skipped++;
                    System.out.printf("SKIP  %-28s %s%n", r.layer(), r.note());
                }
            }
        }
        System.out.printf("gradcheck: %d passed, %d failed, %d skipped%n", passed, failed, skipped);
        return failed == 0 ? 0 : 1;
    }
}
