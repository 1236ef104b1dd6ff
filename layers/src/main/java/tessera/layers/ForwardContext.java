package tessera.layers;

import java.util.HashMap;
import java.util.Map;
import tessera.memory.Tensor;

/**
 * Per-forward-pass state: seeds for stochastic layers (dropout) and a stash that lets one layer hand a tensor to a
 * later one (MaxPool2d indices to MaxUnpool2d). One context per forward call; not shared between threads.
 */
public final class ForwardContext {
    private final long seed;
    private long counter;
    private final Map<String, Tensor> stash = new HashMap<>();

    public ForwardContext(long seed) { this.seed = seed; }

    /** A fresh seed for the next stochastic op: deterministic given the context seed and the order of calls. */
    public long nextSeed() { return tessera.autograd.OpSeeds.of(seed, ++counter); }

    public void put(String key, Tensor t) { stash.put(key, t); }

    public Tensor get(String key, String requester) {
        Tensor t = stash.get(key);
        if (t == null) {
            throw new SpecException(requester + ": no tensor named '" + key + "' was produced earlier in this forward pass "
                    + "(is the MaxPool2d with id '" + key + "' before it?)");
        }
        return t;
    }
}
