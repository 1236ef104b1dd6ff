package tessera.layers.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * A first-order optimizer over parameter groups, with PyTorch's {@code torch.optim} update rules.
 *
 * <p>{@link #step()} updates, in place, every parameter whose {@link Variable#grad()} is not null (others are
 * skipped and their state is left untouched), reading the group's hyper-parameters at that moment. Parameters
 * must be contiguous F32 or F64 tensors; gradients must have the parameter's shape and dtype. F32 updates use
 * the Vector API and float arithmetic, F64 updates plain double loops.
 *
 * <p>Per-parameter state (momentum buffers, moment estimates) lives off-heap in this optimizer's arena, is created
 * lazily at a parameter's first update, and is freed by {@link #close()}. Not thread-safe.
 */
public abstract class Optimizer implements AutoCloseable {
    private final String name;
    private final Map<String, Double> defaults;
    private final List<ParamGroup> groups = new ArrayList<>();
    private final Map<Variable, ParamState> states = new IdentityHashMap<>();
    private final Set<Variable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    private final TensorArena arena = new TensorArena();
    private boolean closed;

    /**
     * @param name     optimizer name for messages
     * @param groups   parameter groups; keys they leave unset take {@code defaults}
     * @param defaults every hyper-parameter this optimizer knows, with its default value (insertion-ordered)
     */
    protected Optimizer(String name, List<ParamGroup> groups, Map<String, Double> defaults) {
        this.name = name;
        this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
        if (groups == null || groups.isEmpty()) throw new IllegalArgumentException(name + ": needs at least one parameter group, got none");
        for (ParamGroup g : groups) addParamGroup(g);
    }

    /**
     * Adds a group: unset keys take the defaults, unknown keys, repeated parameters (in this or another group),
     * non-float or non-contiguous parameters and invalid hyper-parameters are rejected.
     */
    public final void addParamGroup(ParamGroup group) {
        checkOpen();
        if (group == null) throw new IllegalArgumentException(name + ": parameter group is null");
        for (String key : group.options().keySet()) {
            if (!defaults.containsKey(key)) {
                throw new IllegalArgumentException(name + ": unknown hyper-parameter '" + key + "' in parameter group "
                        + groups.size() + "; known: " + defaults.keySet());
            }
        }
        for (Map.Entry<String, Double> d : defaults.entrySet()) {
            if (!group.has(d.getKey())) group.set(d.getKey(), d.getValue());
        }
        validate(group, groups.size());
        Set<Variable> mine = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Variable p : group.params()) {
            if (seen.contains(p) || !mine.add(p)) {
                throw new IllegalArgumentException(name + ": parameter '" + p.name() + "' appears more than once across the parameter groups");
            }
            Tensor v = p.value();
            if (v.dtype() != DType.F32 && v.dtype() != DType.F64) {
                throw new IllegalArgumentException(name + ": parameter '" + p.name() + "' has dtype " + v.dtype() + ", expected F32 or F64");
            }
            if (!v.isContiguous()) {
                throw new IllegalArgumentException(name + ": parameter '" + p.name() + "' " + v + " is not contiguous");
            }
        }
        seen.addAll(mine);
        groups.add(group);
    }

    /** Checks the hyper-parameters of group number {@code index}; IllegalArgumentException naming the bad one. */
    protected abstract void validate(ParamGroup group, int index);

    /**
     * Updates one parameter in place. {@code state.step()} already counts this update (1 at the first one).
     * Both tensors are contiguous and of the same shape and dtype (F32 or F64).
     */
    protected abstract void update(ParamGroup group, Tensor param, Tensor grad, ParamState state);

    /** One optimization step over every parameter that has a gradient. */
    public final void step() {
        checkOpen();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            validate(g, gi);
            List<Variable> ps = g.params();
            for (int pi = 0; pi < ps.size(); pi++) {      // indexed: no iterator allocation per step
                Variable p = ps.get(pi);
                Tensor grad = p.grad();
                if (grad == null) continue;
                Tensor value = p.value();
                if (grad.dtype() != value.dtype() || !sameShape(grad, value)) {
                    throw new IllegalArgumentException(name + ": gradient of parameter '" + p.name() + "' is " + grad
                            + ", expected shape " + java.util.Arrays.toString(value.shape()) + " and dtype " + value.dtype());
                }
                if (!grad.isContiguous()) {
                    throw new IllegalArgumentException(name + ": gradient of parameter '" + p.name() + "' " + grad + " is not contiguous");
                }
                ParamState s = states.get(p);
                if (s == null) {
                    s = new ParamState(value, arena);
                    states.put(p, s);
                }
                s.advance();
                update(g, value, grad, s);
            }
        }
    }

    /** Shape equality without copying the shape arrays (step() allocates nothing in steady state). */
    private static boolean sameShape(Tensor a, Tensor b) {
        if (a.rank() != b.rank()) return false;
        for (int d = 0; d < a.rank(); d++) if (a.dim(d) != b.dim(d)) return false;
        return true;
    }

    /** Sets every parameter's gradient to zero (parameters without a gradient stay without). */
    public void zeroGrad() {
        for (int i = 0; i < groups.size(); i++) { // indexed: no iterators (a training step allocates nothing)
            List<Variable> ps = groups.get(i).params();
            for (int j = 0; j < ps.size(); j++) ps.get(j).zeroGrad();
        }
    }

    /** The parameter groups, in order (the list is unmodifiable; the groups' hyper-parameters may be changed). */
    public List<ParamGroup> paramGroups() { return Collections.unmodifiableList(groups); }

    /** The default value of every hyper-parameter this optimizer knows. */
    public Map<String, Double> defaults() { return defaults; }

    /** Learning rate of group 0. */
    public double lr() { return lr(0); }

    /** Learning rate of group {@code group}. */
    public double lr(int group) { return group(group).lr(); }

    /** Sets the learning rate of every group. */
    public void setLr(double lr) { for (int i = 0; i < groups.size(); i++) setLr(i, lr); }

    /** Sets the learning rate of group {@code group}. */
    public void setLr(int group, double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) throw new IllegalArgumentException(name + ": learning rate must be finite and >= 0, got " + lr);
        group(group).lr(lr);
    }

    /** Number of updates applied to {@code p} so far (0 if none or unknown). */
    public long steps(Variable p) {
        ParamState s = states.get(p);
        return s == null ? 0 : s.step;
    }

    /** The state tensors of {@code p} by name (e.g. {@code momentum_buffer}, {@code exp_avg}); empty before its first update. */
    public Map<String, Tensor> state(Variable p) {
        ParamState s = states.get(p);
        return s == null ? Map.of() : Collections.unmodifiableMap(s.buffers);
    }

    /** Names of the state buffers this optimizer may create for a parameter (checked by {@link #loadStateDict}). */
    protected abstract List<String> stateNames();

    /**
     * The state as named tensors, for checkpoints (e.g. with {@code SafeTensors}): for parameter {@code j} of group
     * {@code i} that has been updated at least once, {@code "i.j.step"} (I64 [1], its update count) and
     * {@code "i.j.<buffer>"} for each of its buffers. The tensors are views of the live state, valid until
     * {@link #close()}; hyper-parameters are not included (they come from the configuration and schedulers).
     */
    public LinkedHashMap<String, Tensor> stateDict() {
        checkOpen();
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            List<Variable> ps = groups.get(gi).params();
            for (int j = 0; j < ps.size(); j++) {
                ParamState s = states.get(ps.get(j));
                if (s == null) continue;
                out.put(gi + "." + j + ".step", s.stepCounter);
                for (Map.Entry<String, Tensor> b : s.buffers.entrySet()) out.put(gi + "." + j + "." + b.getKey(), b.getValue());
            }
        }
        return out;
    }

    /**
     * Restores state written by {@link #stateDict()} of the same kind of optimizer over parameters of the same
     * shapes in the same group layout. Values are copied (dtypes converted). Parameters without a {@code step}
     * entry start afresh. Everything is checked before anything changes; a bad key, index, buffer name, shape or
     * step gives an IllegalArgumentException naming it. (Replaced state stays allocated in the optimizer's arena
     * until {@link #close()}; load once, at the start of a resumed run.)
     */
    public void loadStateDict(Map<String, Tensor> state) {
        checkOpen();
        if (state == null) throw new IllegalArgumentException(name + ": state map is null");
        List<String> known = stateNames();
        Map<Variable, Long> steps = new IdentityHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String key = e.getKey();
            String[] parts = key.split("\\.", 3);
            int gi, j;
            try {
                if (parts.length != 3) throw new NumberFormatException();
                gi = Integer.parseInt(parts[0]);
                j = Integer.parseInt(parts[1]);
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(name + ": state key '" + key + "' is not of the form <group>.<param>.<name>");
            }
            if (gi < 0 || gi >= groups.size() || j < 0 || j >= groups.get(gi).params().size()) {
                throw new IllegalArgumentException(name + ": state key '" + key + "' names parameter " + j + " of group " + gi
                        + ", which does not exist (" + groups.size() + " groups)");
            }
            Variable p = groups.get(gi).params().get(j);
            Tensor t = e.getValue();
            if (parts[2].equals("step")) {
                double v = t.numel() == 1 ? t.getDouble(new int[t.rank()]) : -1;
                if (!(v >= 0) || v != Math.rint(v) || v > 1e15) {
                    throw new IllegalArgumentException(name + ": state '" + key + "' must hold one non-negative integer step count, got " + t
                            + (t.numel() == 1 ? " = " + v : ""));
                }
                steps.put(p, (long) v);
            } else {
                if (!known.contains(parts[2])) {
                    throw new IllegalArgumentException(name + ": state '" + key + "' names buffer '" + parts[2] + "'; " + name + " uses " + known);
                }
                if (!java.util.Arrays.equals(t.shape(), p.value().shape())) {
                    throw new IllegalArgumentException(name + ": state '" + key + "' has shape " + java.util.Arrays.toString(t.shape())
                            + ", parameter '" + p.name() + "' has " + java.util.Arrays.toString(p.value().shape()));
                }
            }
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String[] parts = e.getKey().split("\\.", 3);
            Variable p = groups.get(Integer.parseInt(parts[0])).params().get(Integer.parseInt(parts[1]));
            if (!steps.containsKey(p)) {
                throw new IllegalArgumentException(name + ": state '" + e.getKey() + "' has no matching '" + parts[0] + "." + parts[1] + ".step' entry");
            }
        }
        for (ParamGroup g : groups) for (Variable p : g.params()) states.remove(p);
        for (Map.Entry<Variable, Long> e : steps.entrySet()) {
            ParamState s = new ParamState(e.getKey().value(), arena);
            s.setStep(e.getValue());
            states.put(e.getKey(), s);
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String[] parts = e.getKey().split("\\.", 3);
            if (parts[2].equals("step")) continue;
            Variable p = groups.get(Integer.parseInt(parts[0])).params().get(Integer.parseInt(parts[1]));
            states.get(p).buffer(parts[2]).copyFrom(e.getValue());
        }
    }

    /** Off-heap bytes held by optimizer state. */
    public long stateBytes() { return arena.bytes(); }

    /** Frees all state; idempotent. The optimizer cannot step afterwards. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        states.clear();
        arena.close();
    }

    public String name() { return name; }

    private ParamGroup group(int i) {
        if (i < 0 || i >= groups.size()) {
            throw new IllegalArgumentException(name + ": parameter group index " + i + " out of range [0, " + groups.size() + ")");
        }
        return groups.get(i);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(name + " optimizer is closed");
    }

    // ---------------------------------------------------------------- validation helpers for subclasses

    /** Requires {@code lo <= group[key] <= hi} (finite). */
    protected final void requireRange(ParamGroup g, int index, String key, double lo, double hi) {
        double v = g.get(key);
        if (!(v >= lo && v <= hi) || Double.isNaN(v)) {
            throw new IllegalArgumentException(name + ": hyper-parameter '" + key + "' of parameter group " + index + " is " + v
                    + ", expected a value in [" + lo + ", " + hi + "]");
        }
    }

    /** Requires {@code lo <= group[key] < hi}. */
    protected final void requireRangeOpenTop(ParamGroup g, int index, String key, double lo, double hi) {
        double v = g.get(key);
        if (!(v >= lo && v < hi)) {
            throw new IllegalArgumentException(name + ": hyper-parameter '" + key + "' of parameter group " + index + " is " + v
                    + ", expected a value in [" + lo + ", " + hi + ")");
        }
    }

    /** Requires the flag to be 0 or 1. */
    protected final void requireFlag(ParamGroup g, int index, String key) {
        double v = g.get(key);
        if (v != 0.0 && v != 1.0) {
            throw new IllegalArgumentException(name + ": flag '" + key + "' of parameter group " + index + " is " + v + ", expected 0 or 1");
        }
    }

    /** Builds a defaults map from alternating keys and values. */
    protected static Map<String, Double> defaults(Object... keyValues) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            Object v = keyValues[i + 1];
            m.put((String) keyValues[i], v instanceof Boolean b ? (b ? 1.0 : 0.0) : ((Number) v).doubleValue());
        }
        return m;
    }

    /** Wraps plain parameters into one group. */
    protected static List<ParamGroup> oneGroup(List<Variable> params) { return List.of(new ParamGroup(params)); }

    private static final java.lang.foreign.ValueLayout.OfLong STEP_LAYOUT =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Per-parameter optimizer state: an update counter and named off-heap buffers shaped like the parameter. */
    public static final class ParamState {
        private final Tensor param;
        private final TensorArena arena;
        private final Map<String, Tensor> buffers = new LinkedHashMap<>();
        private final Tensor stepCounter;    // I64 [1], mirrors step for checkpoints
        long step;

        ParamState(Tensor param, TensorArena arena) {
            this.param = param;
            this.arena = arena;
            this.stepCounter = arena.allocate(DType.I64, 1);
        }

        void advance() { setStep(step + 1); }

        void setStep(long n) {
            step = n;
            stepCounter.segment().set(STEP_LAYOUT, stepCounter.byteOffset(), n);
        }

        /** Updates applied so far, including the current one. */
        public long step() { return step; }

        /** Whether buffer {@code name} exists yet. */
        public boolean has(String name) { return buffers.containsKey(name); }

        /** Buffer {@code name}, created zero-filled (parameter's shape and dtype) on first request. */
        public Tensor buffer(String name) {
            Tensor t = buffers.get(name);
            if (t == null) {
                t = arena.allocate(param.dtype(), param.shape());
                buffers.put(name, t);
            }
            return t;
        }
    }
}
