package tessera.explain;

import java.util.Arrays;
import tessera.memory.Tensor;

/** Checks and helpers for single images {@code [1, C, H, W]} float32 and batches of them. */
final class Images {
    private Images() {}

    /** Fails unless {@code x} is one image [1, C, H, W] matching the model's declared [C, H, W] (-1 = any). */
    static void checkOne(Tensor x, int[] declared) {
        int[] s = x.shape();
        boolean ok = s.length == 4 && s[0] == 1;
        for (int d = 0; ok && d < 3; d++) ok = declared[d] < 0 || declared[d] == s[d + 1];
        if (!ok) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + "; expected one image [1, "
                    + dim(declared[0], "C") + ", " + dim(declared[1], "H") + ", " + dim(declared[2], "W") + "]");
        }
    }

    private static String dim(int d, String name) { return d < 0 ? name : Integer.toString(d); }

    /** A one-hot seed [n, classes] with 1 at {@code cls} in every row. */
    static Tensor oneHot(int n, int classes, int cls) {
        float[] v = new float[n * classes];
        for (int i = 0; i < n; i++) v[i * classes + cls] = 1;
        return Tensor.of(v, n, classes);
    }
}
