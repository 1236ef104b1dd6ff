package tessera.properties;

import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.quicktheories.core.Gen;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.properties.plugins.DeliberatelyBroken;
import tessera.gradcheck.CaseGenerator;
import tessera.gradcheck.LayerCase;

/**
 * QuickTheories generators of layer configurations: one independent {@code integers().between(0, span)} per gene of
 * the provider's {@link CaseGenerator}, so QuickTheories shrinks each gene towards 0 — smaller arguments, smaller
 * inputs, batch 1, training mode — and invalid combinations are discarded.
 */
final class LayerCases {
    private LayerCases() {}

    /** Valid configurations of the generator's provider. */
    static Gen<LayerCase> cases(CaseGenerator gen) {
        Gen<int[]> genes = integers().between(0, 0).map(z -> new int[0]);
        for (CaseGenerator.Gene g : gen.genes()) {
            genes = genes.zip(integers().between(0, g.span()), (a, v) -> {
                int[] b = Arrays.copyOf(a, a.length + 1);
                b[a.length] = v;
                return b;
            });
        }
        return genes.map(g -> gen.decode(g).orElse(null)).assuming(Objects::nonNull).describedAs(LayerCase::toString);
    }

    /** Every provider of the default registry (built-ins and test plugins), sorted by name. */
    static List<LayerProvider> all() { return LayerRegistry.getDefault().providers(); }

    static boolean deliberatelyBroken(LayerProvider p) { return p instanceof DeliberatelyBroken; }

    /** QuickTheories 0.26 runs {@code withExamples(n)} as n − 1 random examples: the count that gives {@code tries}. */
    static int examples(int tries) { return tries + 1; }

    /** A fixed seed per layer, so CI runs are reproducible; override with -Dtessera.gradcheck.seed=S. */
    static long seed(String layer) {
        return Long.getLong("tessera.gradcheck.seed", 20240601L) * 31 + layer.hashCode();
    }
}
