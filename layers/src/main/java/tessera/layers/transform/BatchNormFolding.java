package tessera.layers.transform;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tessera.autograd.Variable;
import tessera.layers.Layer;
import tessera.layers.LayerSpec;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.layers.builtin.BatchNormLayer;
import tessera.layers.builtin.ConcatLayer;
import tessera.layers.builtin.Conv2dLayer;
import tessera.layers.builtin.LinearLayer;
import tessera.layers.builtin.ResidualLayer;
import tessera.layers.builtin.SequentialLayer;
import tessera.memory.Tensor;

/**
 * Inference transform: every BatchNorm directly after a Conv2d (or a BatchNorm1d after a Linear) is folded into
 * that layer's weights: with s = γ / √(σ² + ε), W' = s·W per output channel and b' = s·(b − μ) + β. The result
 * computes the same eval-mode function with fewer passes over memory. Layers that are not folded are shared with
 * the original model (close only one of the two, or close both: closing is idempotent).
 */
public final class BatchNormFolding {
    private BatchNormFolding() {}

    /** The folded model (eval mode) and its spec (the same spec without the folded BatchNorms, convolutions with bias). */
    public static Model fold(Model model) {
        List<LayerSpec> specs = new ArrayList<>();
        SequentialLayer root = foldChain(model.root(), model.spec().layers(), specs);
        Model folded = Model.of(new ModelSpec(model.spec().name() + "-folded", model.spec().input(), specs), root, model.dtype());
        return folded.eval();
    }

    private static SequentialLayer foldChain(SequentialLayer seq, List<LayerSpec> specs, List<LayerSpec> outSpecs) {
        List<Layer> layers = seq.childList();
        if (layers.size() != specs.size()) {
            throw new IllegalStateException("spec and layers disagree: " + specs.size() + " specs for " + layers.size() + " layers");
        }
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            LayerSpec s = specs.get(i);
            Layer next = i + 1 < layers.size() ? layers.get(i + 1) : null;
            if (next instanceof BatchNormLayer bn && (l instanceof Conv2dLayer || l instanceof LinearLayer)) {
                out.add(l instanceof Conv2dLayer c ? foldConv(c, bn) : foldLinear((LinearLayer) l, bn));
                outSpecs.add(s.with("bias", true));
                i++;
                continue;
            }
            Folded f = foldInside(l, s);
            out.add(f.layer());
            outSpecs.add(f.spec());
        }
        SequentialLayer result = new SequentialLayer(out);
        result.setTraining(false);
        return result;
    }

    /** A layer after folding, with the spec that builds it. */
    private record Folded(Layer layer, LayerSpec spec) {}

    @SuppressWarnings("unchecked")
    private static Folded foldInside(Layer l, LayerSpec s) {
        if (l instanceof SequentialLayer seq) {
            List<LayerSpec> inner = new ArrayList<>();
            SequentialLayer f = foldChain(seq, asList(s.args().get("layers")), inner);
            return new Folded(f, s.with("layers", inner));
        }
        if (l instanceof ResidualLayer r) {
            List<LayerSpec> body = new ArrayList<>(), sc = new ArrayList<>();
            SequentialLayer fb = foldChain(r.body(), asList(s.args().get("body")), body);
            SequentialLayer fs = r.shortcut() == null ? null : foldChain(r.shortcut(), asList(s.args().get("shortcut")), sc);
            return new Folded(new ResidualLayer(fb, fs, r.reluAfterAdd()), s.with("body", body).with("shortcut", sc));
        }
        if (l instanceof ConcatLayer c) {
            List<LayerSpec> branchSpecs = asList(s.args().get("branches"));
            List<Layer> branches = new ArrayList<>();
            List<LayerSpec> newSpecs = new ArrayList<>();
            for (int i = 0; i < c.branches().size(); i++) {
                Folded f = foldInside(c.branches().get(i), branchSpecs.get(i));
                branches.add(f.layer());
                newSpecs.add(f.spec());
            }
            return new Folded(new ConcatLayer(branches), s.with("branches", newSpecs));
        }
        return new Folded(l, s);
    }

    @SuppressWarnings("unchecked")
    private static List<LayerSpec> asList(Object o) {
        if (o == null) return List.of();
        List<LayerSpec> out = new ArrayList<>();
        for (Object x : (List<Object>) o) out.add(toSpec(x));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static LayerSpec toSpec(Object o) {
        if (o instanceof LayerSpec s) return s;
        if (o instanceof List<?> l) return new LayerSpec("Sequential", Map.of("layers", l));
        Map<String, Object> m = new java.util.LinkedHashMap<>((Map<String, Object>) o);
        String type = (String) m.remove("type");
        return new LayerSpec(type, m);
    }

    private static Conv2dLayer foldConv(Conv2dLayer c, BatchNormLayer bn) {
        Conv2dLayer f = new Conv2dLayer(c.inChannels(), c.outChannels(), c.kernel(), c.convArgs(), true,
                c.weight().dtype(), "default", 0);
        scale(c.weight(), c.bias(), bn, f.weight().value(), f.bias().value(), c.outChannels());
        return f;
    }

    private static LinearLayer foldLinear(LinearLayer l, BatchNormLayer bn) {
        LinearLayer f = new LinearLayer(l.inFeatures(), l.outFeatures(), true, l.weight().dtype(), "default", 0);
        scale(l.weight(), l.bias(), bn, f.weight().value(), f.bias().value(), l.outFeatures());
        return f;
    }

    private static void scale(Variable w, Variable b, BatchNormLayer bn, Tensor wOut, Tensor bOut, int channels) {
        double[] wv = w.value().toDoubleArray();
        int per = wv.length / channels;
        Tensor flatW = wOut.reshape(wv.length);
        for (int k = 0; k < channels; k++) {
            double s = bn.gamma().value().getDouble(k) / Math.sqrt(bn.runningVar().getDouble(k) + bn.eps());
            for (int j = 0; j < per; j++) flatW.set(wv[k * per + j] * s, k * per + j);
            double bias = b == null ? 0 : b.value().getDouble(k);
            bOut.set(s * (bias - bn.runningMean().getDouble(k)) + bn.beta().value().getDouble(k), k);
        }
    }
}
