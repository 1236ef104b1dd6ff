package tessera.layers.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.autograd.Variable;

/**
 * A set of parameters that share hyper-parameters, like an entry of PyTorch's {@code optimizer.param_groups}.
 *
 * <p>Hyper-parameters are named doubles ({@link #LR}, {@link #WEIGHT_DECAY}, and the optimizer's own keys such as
 * {@code momentum} or {@code beta1}; flags are 0 or 1). Keys left unset take the optimizer's defaults when the group
 * is added to an optimizer; keys the optimizer does not know are rejected then. Values may be changed between steps
 * (schedulers change {@link #LR}); they are validated again at every {@link Optimizer#step()}.
 */
public final class ParamGroup {
    /** Learning rate. */
    public static final String LR = "lr";
    /** Weight decay (L2 penalty for SGD/RMSprop/Adam, decoupled for AdamW). */
    public static final String WEIGHT_DECAY = "weight_decay";

    private final List<Variable> params;
    private final LinkedHashMap<String, Double> options = new LinkedHashMap<>();

    /** A group of {@code params} with no hyper-parameters set yet (the optimizer's defaults fill them in). */
    public ParamGroup(List<Variable> params) {
        if (params == null) throw new IllegalArgumentException("ParamGroup: params is null");
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i) == null) throw new IllegalArgumentException("ParamGroup: parameter " + i + " is null");
        }
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
    }

    public static ParamGroup of(List<Variable> params) { return new ParamGroup(params); }

    public static ParamGroup of(Variable... params) { return new ParamGroup(List.of(params)); }

    /** The parameters, in order (unmodifiable). */
    public List<Variable> params() { return params; }

    /** Sets a hyper-parameter; returns this group. */
    public ParamGroup set(String key, double value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("ParamGroup.set: key is null or empty");
        options.put(key, value);
        return this;
    }

    /** Sets a 0/1 flag hyper-parameter (e.g. {@code nesterov}, {@code amsgrad}). */
    public ParamGroup set(String key, boolean flag) { return set(key, flag ? 1.0 : 0.0); }

    /** The value of {@code key}, or an IllegalArgumentException listing the keys that are set. */
    public double get(String key) {
        Double v = options.get(key);
        if (v == null) {
            throw new IllegalArgumentException("parameter group has no hyper-parameter '" + key + "' (set: " + options.keySet() + ")");
        }
        return v;
    }

    /** A 0/1 flag: true when the value is not 0. */
    public boolean flag(String key) { return get(key) != 0.0; }

    public boolean has(String key) { return options.containsKey(key); }

    /** The learning rate. */
    public double lr() { return get(LR); }

    public ParamGroup lr(double lr) { return set(LR, lr); }

    /** The weight decay. */
    public double weightDecay() { return get(WEIGHT_DECAY); }

    public ParamGroup weightDecay(double weightDecay) { return set(WEIGHT_DECAY, weightDecay); }

    /** Every hyper-parameter, in the order set (unmodifiable view). */
    public Map<String, Double> options() { return Collections.unmodifiableMap(options); }

    @Override
    public String toString() { return "ParamGroup(" + params.size() + " params, " + options + ")"; }
}
