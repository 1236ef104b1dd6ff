package tessera.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Every {@link LayerProvider} found by {@link ServiceLoader} on a class loader, by name; builds layers from specs,
 * validating arguments against each provider's schema and reporting errors a user can act on.
 */
public final class LayerRegistry {
    private final Map<String, LayerProvider> providers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    private LayerRegistry(ClassLoader loader) {
        for (LayerProvider p : ServiceLoader.load(LayerProvider.class, loader)) {
            LayerProvider prev = providers.putIfAbsent(p.name(), p);
            if (prev != null && prev.getClass() != p.getClass()) {
                throw new IllegalStateException("two layer providers are named '" + p.name() + "': "
                        + prev.getClass().getName() + " and " + p.getClass().getName());
            }
        }
    }

    private static volatile LayerRegistry defaultRegistry;

    /** The registry of the context class loader (built-ins plus plugins on the classpath); cached. */
    public static LayerRegistry getDefault() {
        LayerRegistry r = defaultRegistry;
        if (r == null) {
            r = new LayerRegistry(Thread.currentThread().getContextClassLoader());
            defaultRegistry = r;
        }
        return r;
    }

    /** A registry of the providers visible from {@code loader} (e.g. a URLClassLoader over plugin jars). */
    public static LayerRegistry load(ClassLoader loader) { return new LayerRegistry(loader); }

    /** Providers sorted by name. */
    public List<LayerProvider> providers() { return List.copyOf(providers.values()); }

    public LayerProvider provider(String name) {
        LayerProvider p = providers.get(name);
        if (p == null) {
            throw new SpecException("unknown layer type '" + name + "'" + suggest(name) + " (`./tessera layers` lists all)");
        }
        return p;
    }

    /** Builds one layer (and its children) for a per-sample input shape; errors name the path and the problem. */
    public Layer build(LayerSpec spec, BuildContext context) {
        LayerProvider p = provider(spec.type());
        Args args = validate(p, spec.args(), context.path());
        try {
            return p.create(args, context);
        } catch (SpecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new SpecException("layer " + context.path() + " (" + p.name() + "): " + e.getMessage()
                    + " [input shape " + Arrays.toString(context.inputShape()) + "]", e);
        }
    }

    /** Checks raw arguments against the schema: unknown, missing, ill-typed and out-of-range arguments. */
    public Args validate(LayerProvider p, Map<String, Object> raw, String path) {
        String where = "layer " + path + " (" + p.name() + ")";
        Map<String, ArgSpec> schema = new LinkedHashMap<>();
        for (ArgSpec a : p.arguments()) schema.put(a.name(), a);
        for (String key : raw.keySet()) {
            if (!schema.containsKey(key) && !key.equals("type") && !key.equals("name")) {
                throw new SpecException(where + ": unknown argument '" + key + "'" + closest(key, schema.keySet())
                        + "; its arguments are " + schema.keySet());
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (ArgSpec a : schema.values()) {
            Object v = raw.get(a.name());
            if (v == null) {
                if (a.required()) {
                    throw new SpecException(where + ": missing required argument '" + a.name() + "' (" + a.describe() + ")");
                }
                out.put(a.name(), a.defaultValue() instanceof int[] d ? d.clone() : a.defaultValue() instanceof Integer i && a.type() == ArgType.INTS ? new int[]{i} : a.defaultValue());
                continue;
            }
            out.put(a.name(), convert(a, v, where));
        }
        return new Args(p.name(), out);
    }

    private Object convert(ArgSpec a, Object v, String where) {
        String bad = where + ": argument '" + a.name() + "' ";
        switch (a.type()) {
            case INT -> {
                long n = asWhole(v, bad + "must be a whole number, got " + show(v));
                range(a, n, bad);
                return (int) n;
            }
            case DOUBLE -> {
                if (!(v instanceof Number num)) throw new SpecException(bad + "must be a number, got " + show(v));
                range(a, num.doubleValue(), bad);
                return num.doubleValue();
            }
            case BOOL -> {
                if (!(v instanceof Boolean b)) throw new SpecException(bad + "must be true or false, got " + show(v));
                return b;
            }
            case STRING -> {
                if (!(v instanceof String s)) throw new SpecException(bad + "must be a string, got " + show(v));
                if (!a.choices().isEmpty() && !a.choices().contains(s)) {
                    throw new SpecException(bad + "is '" + s + "', expected one of " + a.choices());
                }
                return s;
            }
            case INTS -> {
                List<?> items = v instanceof List<?> l ? l : v instanceof int[] arr ? Arrays.stream(arr).boxed().toList() : List.of(v);
                int[] r = new int[items.size()];
                for (int i = 0; i < r.length; i++) {
                    long n = asWhole(items.get(i), bad + "must hold whole numbers, got " + show(v));
                    range(a, n, bad);
                    r[i] = (int) n;
                }
                if (!a.length().isEmpty() && !a.length().contains(r.length)) {
                    throw new SpecException(bad + "has " + r.length + " values " + Arrays.toString(r) + ", expected " + a.length() + " values");
                }
                if (r.length == 0) throw new SpecException(bad + "is an empty list");
                return r;
            }
            case LAYERS -> {
                if (!(v instanceof List<?> l)) throw new SpecException(bad + "must be a list of layer specs, got " + show(v));
                List<LayerSpec> specs = new ArrayList<>();
                for (Object o : l) specs.add(toSpec(o, bad));
                return List.copyOf(specs);
            }
        }
        throw new IllegalStateException("unhandled type " + a.type());
    }

    /** A LAYERS element: a LayerSpec, a JSON object with "type", or a nested list (a Sequential). */
    @SuppressWarnings("unchecked")
    static LayerSpec toSpec(Object o, String bad) {
        if (o instanceof LayerSpec s) return s;
        if (o instanceof List<?> l) return new LayerSpec("Sequential", Map.of("layers", l));
        if (o instanceof Map<?, ?> m) {
            Object type = m.get("type");
            if (!(type instanceof String t)) throw new SpecException(bad + "contains a layer without a \"type\": " + show(o));
            Map<String, Object> args = new LinkedHashMap<>((Map<String, Object>) m);
            args.remove("type");
            return new LayerSpec(t, args);
        }
        throw new SpecException(bad + "contains " + show(o) + ", expected a layer spec object");
    }

    private static long asWhole(Object v, String message) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short) return ((Number) v).longValue();
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e15) return n.longValue();
        throw new SpecException(message);
    }

    private static void range(ArgSpec a, double n, String bad) {
        if (n < a.min() || n > a.max()) {
            throw new SpecException(bad + "is " + (n == Math.rint(n) ? Long.toString((long) n) : Double.toString(n))
                    + ", expected " + a.describe().substring(a.name().length() + 2));
        }
    }

    private static String show(Object v) {
        if (v instanceof String s) return "\"" + s + "\"";
        return v == null ? "null" : v + " (" + v.getClass().getSimpleName().toLowerCase(Locale.ROOT) + ")";
    }

    private String suggest(String name) {
        String c = closest(name, providers.keySet());
        return c;
    }

    /** ", did you mean 'X' or 'Y'?" for the nearest names by edit distance, or "" when nothing is close. */
    static String closest(String name, java.util.Collection<String> known) {
        List<String> near = known.stream()
                .map(k -> Map.entry(k, distance(name.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT))))
                .filter(e -> e.getValue() <= Math.max(2, name.length() / 3) || e.getKey().toLowerCase(Locale.ROOT).contains(name.toLowerCase(Locale.ROOT)))
                .sorted(Comparator.comparingInt(Map.Entry::getValue))
                .limit(3).map(e -> "'" + e.getKey() + "'").toList();
        return near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near) + "?";
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
