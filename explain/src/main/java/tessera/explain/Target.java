package tessera.explain;

import tessera.memory.Tensor;

/** The class whose score is explained: the requested one, checked against the model's class count, or the predicted one. */
public record Target(int cls, int classes, float score, boolean predicted) {
    /**
     * Scores {@code x} (one image) and resolves the class.
     *
     * @param requested the class index, or null for the model's top class
     * @throws IllegalArgumentException when {@code requested} is outside 0..K−1
     */
    public static Target resolve(Explainable model, Tensor x, Integer requested) {
        Images.checkOne(x, model.inputShape());
        try (Tensor y = model.scores(x)) {
            float[] s = y.toFloatArray();
            int k = s.length;
            if (requested != null) {
                if (requested < 0 || requested >= k) {
                    throw new IllegalArgumentException("class " + requested + " is out of range: the model scores " + k + " classes (0.." + (k - 1) + ")");
                }
                return new Target(requested, k, s[requested], false);
            }
            int best = 0;
            for (int i = 1; i < k; i++) if (s[i] > s[best]) best = i;
            return new Target(best, k, s[best], true);
        }
    }
}
