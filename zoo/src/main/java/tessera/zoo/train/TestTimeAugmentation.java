package tessera.zoo.train;

import java.util.ArrayList;
import java.util.List;
import tessera.autograd.Scope;
import tessera.memory.Tensor;

/** Views of a batch for test-time augmentation; predictions are averaged over the original and these views. */
public final class TestTimeAugmentation {
    private TestTimeAugmentation() {}

    /** The four shifts by {@code pixels} up, down, left and right; uncovered pixels take the batch's minimum value. */
    public static List<Evaluator.View> shifts(int pixels) {
        List<Evaluator.View> v = new ArrayList<>();
        v.add(b -> shift(b, pixels, 0));
        v.add(b -> shift(b, -pixels, 0));
        v.add(b -> shift(b, 0, pixels));
        v.add(b -> shift(b, 0, -pixels));
        return v;
    }

    /** Horizontal mirror image (for natural images, not digits). */
    public static Evaluator.View horizontalFlip() {
        return b -> {
            int w = b.dim(3);
            Tensor out = Scope.alloc(b.dtype(), b.shape());
            for (int x = 0; x < w; x++) out.narrow(3, x, 1).copyFrom(b.narrow(3, w - 1 - x, 1));
            return out;
        };
    }

    /** out[.., y, x] = in[.., y − dy, x − dx] where inside, else the minimum of the batch (background). */
    static Tensor shift(Tensor b, int dy, int dx) {
        int h = b.dim(2), w = b.dim(3);
        Tensor out = Scope.alloc(b.dtype(), b.shape());
        double min = Double.MAX_VALUE;
        for (double v : b.toDoubleArray()) min = Math.min(min, v);
        out.fill(min);
        int ys = Math.max(0, dy), ye = Math.min(h, h + dy), xs = Math.max(0, dx), xe = Math.min(w, w + dx);
        if (ye > ys && xe > xs) {
            out.narrow(2, ys, ye - ys).narrow(3, xs, xe - xs)
                    .copyFrom(b.narrow(2, ys - dy, ye - ys).narrow(3, xs - dx, xe - xs));
        }
        return out;
    }
}
