package tessera.gradcheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.Layer;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.memory.DType;

/**
 * Random layer configurations drawn from a provider's argument schema, encoded as a vector of small independent
 * integer <em>genes</em>, each in {@code [0, span]}. Gene value 0 always means "the simplest choice" (the smallest
 * sampled value, the default string, the shortest list, the smallest input, batch 1, training mode), so shrinking
 * every gene towards 0 shrinks the configuration: QuickTheories does it with {@code integers().between(0, span)},
 * {@link GradcheckRunner} greedily.
 *
 * <p>Genes per argument: INT — value in {@code [sampleMin, sampleMax]}; DOUBLE — one of 9 evenly spaced values in the
 * sample range; BOOL — default or its negation; STRING with choices — the default first, then the others; INTS — the
 * list length (allowed lengths, shortest first) and one value gene per position. Optional (inferred) arguments get a
 * presence gene (0 = absent, inferred) and values in {@code [min, min + 3]}. Required LAYERS arguments (containers)
 * and required free-text strings cannot be generated. Then: a seed for {@link LayerProvider#sampleInputShape}, one
 * reduction gene per input dimension (0 = as small as still valid, down to 3 below the sampled size), batch 1–2
 * (at least 2 in training mode for layers with running statistics), train/eval, and a data seed.
 */
public final class CaseGenerator {
    /** One gene: a name for messages and its largest value (the smallest is 0). */
    public record Gene(String name, int span) {}

    private static final int SHAPE_DIMS = 4;
    private static final int DOUBLE_STEPS = 8;

    private final LayerProvider provider;
    private final LayerRegistry registry;
    private final List<Gene> genes = new ArrayList<>();
    private final List<Slot> slots = new ArrayList<>();
    private final String notGeneratable;

    private CaseGenerator(LayerProvider provider, LayerRegistry registry) {
        this.provider = provider;
        this.registry = registry;
        String why = null;
        for (ArgSpec a : provider.arguments()) {
            String w = addSlot(a);
            if (w != null && why == null) why = w;
        }
        notGeneratable = why;
        genes.add(new Gene("shape_seed", 15));
        for (int i = 0; i < SHAPE_DIMS; i++) genes.add(new Gene("input_dim" + i + "_size", 3));
        genes.add(new Gene("batch", 1));
        genes.add(new Gene("eval_mode", 1));
        genes.add(new Gene("data_seed", 255));
    }

    /** The generator of {@code provider}'s configurations, validated and built with {@code registry}. */
    public static CaseGenerator of(LayerProvider provider, LayerRegistry registry) { return new CaseGenerator(provider, registry); }

    public LayerProvider provider() { return provider; }

    /** The genes, in decoding order. */
    public List<Gene> genes() { return List.copyOf(genes); }

    /** Whether configurations can be generated from the schema at all. */
    public boolean generatable() { return notGeneratable == null; }

    /** Why not, or null. */
    public String whyNotGeneratable() { return notGeneratable; }

    /** Uniformly random genes. */
    public int[] random(SplittableRandom r) {
        int[] g = new int[genes.size()];
        for (int i = 0; i < g.length; i++) g[i] = r.nextInt(genes.get(i).span() + 1);
        return g;
    }

    /** The configuration the genes encode, or empty when the schema's sample ranges combine into an invalid one. */
    public Optional<LayerCase> decode(int[] g) {
        if (!generatable()) return Optional.empty();
        if (g.length != genes.size()) {
            throw new IllegalArgumentException(provider.name() + ": expected " + genes.size() + " genes, got " + g.length);
        }
        for (int i = 0; i < g.length; i++) {
            if (g[i] < 0 || g[i] > genes.get(i).span()) {
                throw new IllegalArgumentException(provider.name() + ": gene " + genes.get(i).name() + " = " + g[i]
                        + " outside [0, " + genes.get(i).span() + "]");
            }
        }
        Map<String, Object> raw = new LinkedHashMap<>();
        int at = 0;
        for (Slot s : slots) {
            Object v = s.value(g, at);
            at += s.genes;
            if (v != null && !isDefault(s.arg, v)) raw.put(s.arg.name(), v);
        }
        long shapeSeed = g[at++];
        int[] reduce = Arrays.copyOfRange(g, at, at + SHAPE_DIMS);
        at += SHAPE_DIMS;
        int batch = 1 + g[at++];
        boolean training = g[at++] == 0;
        long dataSeed = g[at];
        Args args;
        int[] sampled;
        try {
            args = registry.validate(provider, raw, provider.name());
            sampled = provider.sampleInputShape(args, new SplittableRandom(0x5EED_0000L + shapeSeed));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (sampled == null || !valid(raw, sampled)) return Optional.empty();
        int[] shape = sampled.clone();
        for (int i = 0; i < Math.min(shape.length, SHAPE_DIMS); i++) {
            int target = Math.max(1, sampled[i] - (3 - reduce[i]));
            boolean found = false;
            for (int v = target; v < sampled[i] && !found; v++) {
                shape[i] = v;
                found = valid(raw, shape);
            }
            if (!found) shape[i] = sampled[i];
        }
        if (training && batch < 2 && hasRunningStatistics(raw, shape)) batch = 2;
        return Optional.of(new LayerCase(provider.name(), raw, shape, batch, training, dataSeed));
    }

    private boolean valid(Map<String, Object> raw, int[] shape) {
        try (Layer l = build(raw, shape)) {
            l.outputShape(shape);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean hasRunningStatistics(Map<String, Object> raw, int[] shape) {
        try (Layer l = build(raw, shape)) {
            return l.buffers().keySet().stream().anyMatch(k -> k.endsWith("running_var") || k.endsWith("running_mean"));
        }
    }

    private Layer build(Map<String, Object> raw, int[] shape) {
        return registry.build(new tessera.layers.LayerSpec(provider.name(), raw),
                new BuildContext(shape.clone(), DType.F64, 0, registry, provider.name()));
    }

    private static boolean isDefault(ArgSpec a, Object v) {
        Object d = a.defaultValue();
        if (d == null) return false;
        if (a.type() == ArgType.INTS && v instanceof List<?> l) {
            int[] dv = d instanceof int[] arr ? arr : d instanceof Integer i ? new int[]{i} : null;
            if (dv == null) return false;
            int[] lv = l.stream().mapToInt(o -> (Integer) o).toArray();
            return Arrays.equals(dv, lv);
        }
        if (d instanceof Number dn && v instanceof Number vn) return dn.doubleValue() == vn.doubleValue();
        return Objects.equals(d, v);
    }

    // ---------------------------------------------------------------- schema → genes

    /** How one argument is decoded from its genes. */
    private abstract static class Slot {
        final ArgSpec arg;
        final int genes;
        Slot(ArgSpec arg, int genes) { this.arg = arg; this.genes = genes; }
        abstract Object value(int[] g, int at);
    }

    private String addSlot(ArgSpec a) {
        boolean optional = a.optional();
        int presence = optional ? 1 : 0;
        switch (a.type()) {
            case LAYERS -> {
                if (a.required()) return "argument '" + a.name() + "' is a list of layers (a container)";
                return null;  // optional children: absent
            }
            case STRING -> {
                if (a.choices().isEmpty()) {
                    if (a.required()) return "required free-text argument '" + a.name() + "'";
                    return null;  // default (or absent)
                }
                List<String> order = new ArrayList<>();
                if (a.defaultValue() instanceof String d && a.choices().contains(d)) order.add(d);
                for (String c : a.choices()) if (!order.contains(c)) order.add(c);
                if (optional) gene(a.name() + "?", 1);
                if (order.size() > 1) gene(a.name(), order.size() - 1);
                int n = presence + (order.size() > 1 ? 1 : 0);
                slots.add(new Slot(a, n) {
                    Object value(int[] g, int at) {
                        if (optional && g[at] == 0) return null;
                        return order.size() > 1 ? order.get(g[at + presence]) : order.get(0);
                    }
                });
                return null;
            }
            case BOOL -> {
                boolean def = a.defaultValue() instanceof Boolean b && b;
                if (optional) gene(a.name() + "?", 1);
                gene(a.name(), 1);
                slots.add(new Slot(a, presence + 1) {
                    Object value(int[] g, int at) {
                        if (optional && g[at] == 0) return null;
                        return g[at + presence] == 0 ? def : !def;
                    }
                });
                return null;
            }
            case DOUBLE -> {
                double lo = a.sampleMin(), hi = Math.max(a.sampleMin(), a.sampleMax());
                int steps = hi > lo ? DOUBLE_STEPS : 0;
                if (optional) gene(a.name() + "?", 1);
                if (steps > 0) gene(a.name(), steps);
                slots.add(new Slot(a, presence + (steps > 0 ? 1 : 0)) {
                    Object value(int[] g, int at) {
                        if (optional && g[at] == 0) return null;
                        return steps == 0 ? lo : lo + (hi - lo) * g[at + presence] / steps;
                    }
                });
                return null;
            }
            case INT, INTS -> {
                long lo, hi;
                if (optional) {
                    lo = (long) Math.ceil(a.min());
                    hi = Math.min((long) Math.floor(a.max()), lo + 3);
                } else {
                    lo = (long) Math.ceil(a.sampleMin());
                    hi = Math.max(lo, (long) Math.floor(a.sampleMax()));
                }
                int span = (int) Math.min(hi - lo, 1 << 10);
                if (optional) gene(a.name() + "?", 1);
                if (a.type() == ArgType.INT) {
                    if (span > 0) gene(a.name(), span);
                    slots.add(new Slot(a, presence + (span > 0 ? 1 : 0)) {
                        Object value(int[] g, int at) {
                            if (optional && g[at] == 0) return null;
                            return (int) (lo + (span > 0 ? g[at + presence] : 0));
                        }
                    });
                    return null;
                }
                List<Integer> lengths = new ArrayList<>(a.length().isEmpty() ? List.of(1, 2) : a.length());
                lengths.sort(null);
                int maxLen = lengths.get(lengths.size() - 1);
                if (lengths.size() > 1) gene(a.name() + ".length", lengths.size() - 1);
                if (span > 0) for (int i = 0; i < maxLen; i++) gene(a.name() + "[" + i + "]", span);
                int lenGenes = lengths.size() > 1 ? 1 : 0;
                int valueGenes = span > 0 ? maxLen : 0;
                slots.add(new Slot(a, presence + lenGenes + valueGenes) {
                    Object value(int[] g, int at) {
                        if (optional && g[at] == 0) return null;
                        int len = lenGenes == 1 ? lengths.get(g[at + presence]) : lengths.get(0);
                        List<Integer> v = new ArrayList<>(len);
                        for (int i = 0; i < len; i++) v.add((int) (lo + (valueGenes > 0 ? g[at + presence + lenGenes + i] : 0)));
                        return v;
                    }
                });
                return null;
            }
        }
        return "unsupported argument type " + a.type() + " of '" + a.name() + "'";
    }

    private void gene(String name, int span) { genes.add(new Gene(name, span)); }
}
