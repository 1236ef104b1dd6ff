package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * View operations against a plain Java-array model. The base tensor holds its own flat index in every element,
 * so a view's contents (in row-major order) are the base indices it reaches; the model computes those indices with
 * dense {@code int[]} arrays and explicit index arithmetic, independently of strides.
 */
class TensorViewPropertiesTest {

    /** Dense model: shape plus the base flat index of every element in row-major order. */
    record Model(int[] shape, int[] ids) {
        static Model base(int[] shape) {
            int[] ids = new int[(int) Shapes.numel(shape)];
            for (int i = 0; i < ids.length; i++) ids[i] = i;
            return new Model(shape.clone(), ids);
        }

        int rank() { return shape.length; }

        /** Row-major multi-index of flat position {@code f}. */
        int[] unflatten(int f) {
            int[] idx = new int[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                idx[d] = f % shape[d];
                f /= shape[d];
            }
            return idx;
        }

        int flatten(int[] idx) {
            int f = 0;
            for (int d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
            return f;
        }

        Model permute(int[] order) {
            int[] ns = new int[order.length];
            for (int i = 0; i < order.length; i++) ns[i] = shape[order[i]];
            Model out = new Model(ns, new int[ids.length]);
            for (int f = 0; f < ids.length; f++) {
                int[] j = out.unflatten(f);
                int[] src = new int[shape.length];
                for (int i = 0; i < order.length; i++) src[order[i]] = j[i];
                out.ids[f] = ids[flatten(src)];
            }
            return out;
        }

        Model slice(int dim, int start, int end, int step) {
            int[] ns = shape.clone();
            ns[dim] = (end - start + step - 1) / step;
            Model out = new Model(ns, new int[(int) Shapes.numel(ns)]);
            for (int f = 0; f < out.ids.length; f++) {
                int[] j = out.unflatten(f);
                j[dim] = start + j[dim] * step;
                out.ids[f] = ids[flatten(j)];
            }
            return out;
        }

        Model expand(int[] target) {
            int lead = target.length - shape.length;
            Model out = new Model(target.clone(), new int[(int) Shapes.numel(target)]);
            for (int f = 0; f < out.ids.length; f++) {
                int[] j = out.unflatten(f);
                int[] src = new int[shape.length];
                for (int d = 0; d < shape.length; d++) src[d] = shape[d] == 1 ? 0 : j[d + lead];
                out.ids[f] = ids[flatten(src)];
            }
            return out;
        }

        Model reshape(int[] ns) { return new Model(ns.clone(), ids); }
    }

    private static final Gen<int[]> SHAPES = integers().between(1, 4).zip(longs().all(), (rank, seed) -> {
        SplittableRandom r = new SplittableRandom(seed);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(5);
        return s;
    });

    @Test
    void randomViewChainsAgreeWithArrayModel() {
        qt().withExamples(300).forAll(SHAPES, longs().all(), integers().between(1, 6)).checkAssert((shape, seed, steps) -> {
            SplittableRandom r = new SplittableRandom(seed);
            try (Tensor base = Tensor.zeros(DType.F64, shape)) {
                int n = (int) base.numel();
                for (int i = 0; i < n; i++) base.writeAt(i, i);
                Tensor view = base;
                Model model = Model.base(shape);
                boolean aliased = true; // the view still shares the base storage
                Tensor copy = null;
                for (int s = 0; s < steps; s++) {
                    int op = r.nextInt(6);
                    int rank = model.rank();
                    switch (op) {
                        case 0 -> { // permute
                            int[] order = randomPermutation(rank, r);
                            view = view.permute(order);
                            model = model.permute(order);
                        }
                        case 1 -> { // transpose
                            int a = r.nextInt(rank), b = r.nextInt(rank);
                            int[] order = identity(rank);
                            order[a] = b;
                            order[b] = a;
                            view = view.transpose(a, b - rank); // negative axis counts from the end
                            model = model.permute(order);
                        }
                        case 2 -> { // narrow
                            int d = r.nextInt(rank), size = model.shape[d];
                            int start = r.nextInt(size), len = 1 + r.nextInt(size - start);
                            view = view.narrow(d, start, len);
                            model = model.slice(d, start, start + len, 1);
                        }
                        case 3 -> { // strided slice
                            int d = r.nextInt(rank), size = model.shape[d];
                            int start = r.nextInt(size), end = start + 1 + r.nextInt(size - start), step = 1 + r.nextInt(3);
                            view = view.slice(d, start, end, step);
                            model = model.slice(d, start, end, step);
                        }
                        case 4 -> { // expand size-1 dims and maybe add a leading one
                            if (rank >= 5) break;
                            int lead = r.nextInt(2);
                            int[] target = new int[rank + lead];
                            if (lead == 1) target[0] = 1 + r.nextInt(3);
                            for (int d = 0; d < rank; d++) target[d + lead] = model.shape[d] == 1 ? 1 + r.nextInt(3) : model.shape[d];
                            view = view.expand(target);
                            model = model.expand(target);
                        }
                        default -> { // reshape: flatten, or split the total into two factors
                            int total = model.ids.length;
                            int[] ns = total % 2 == 0 && r.nextBoolean() ? new int[] {2, -1} : new int[] {total};
                            int[] resolved = ns.length == 2 ? new int[] {2, total / 2} : ns;
                            try {
                                view = view.reshape(ns);
                            } catch (IllegalArgumentException notViewable) {
                                assertTrue(!view.isContiguous(), "reshape of a contiguous tensor must always work");
                                assertTrue(notViewable.getMessage().contains("contiguous"), notViewable.getMessage());
                                Tensor c = view.contiguous();
                                assertTrue(c.isContiguous());
                                if (copy != null) copy.close();
                                copy = c;
                                aliased = false;
                                view = c.reshape(ns);
                            }
                            model = model.reshape(resolved);
                        }
                    }
                    assertArrayEquals(model.shape, view.shape(), "shape after op " + op);
                    assertArrayEquals(toDoubles(model.ids), view.toDoubleArray(), "contents after op " + op + " " + view);
                }
                Tensor c = view.contiguous();
                assertTrue(c.isContiguous());
                assertArrayEquals(toDoubles(model.ids), c.toDoubleArray());
                if (c != view) c.close();
                if (aliased && model.ids.length > 0) { // a write through the view lands on the modelled base element
                    int f = r.nextInt(model.ids.length);
                    view.set(-1, model.unflatten(f));
                    assertEquals(-1.0, base.toDoubleArray()[model.ids[f]]);
                }
                if (copy != null) copy.close();
            }
        });
    }

    @Test
    void stridesOfViewsMatchTheIndexFormula() {
        qt().withExamples(200).forAll(SHAPES, longs().all()).checkAssert((shape, seed) -> {
            try (Tensor t = Tensor.zeros(DType.F32, shape)) {
                int[] order = randomPermutation(shape.length, new SplittableRandom(seed));
                Tensor p = t.permute(order);
                long[] base = Shapes.contiguousStrides(shape);
                for (int i = 0; i < order.length; i++) assertEquals(base[order[i]], p.stride(i));
                assertEquals(isIdentityOnNonUnitDims(order, shape), p.isContiguous(), Arrays.toString(order));
            }
        });
    }

    @Test
    void badViewArgumentsAreRejectedWithTheNumbers() {
        try (Tensor t = Tensor.zeros(2, 3, 4)) {
            assertMessage(() -> t.narrow(1, 2, 5), "narrow(start=2, length=5)", "size 3");
            assertMessage(() -> t.slice(2, 0, 9, 1), "slice [0, 9)", "size 4");
            assertMessage(() -> t.slice(0, 0, 2, 0), "step 0");
            assertMessage(() -> t.reshape(5, -1), "24 elements");
            assertMessage(() -> t.reshape(-1, -1), "only one dimension may be -1");
            assertMessage(() -> t.permute(0, 0, 1), "repeats axis 0");
            assertMessage(() -> t.permute(0, 1), "needs 3 axes");
            assertMessage(() -> t.transpose(0, 3), "axis 3 is out of range");
            assertMessage(() -> t.expand(2, 5, 4), "cannot broadcast");
            assertMessage(() -> t.expand(2, 3, -4), "negative");
            assertMessage(() -> t.getDouble(0, 3, 0), "out of bounds", "[2, 3, 4]");
            assertMessage(() -> t.getDouble(0, 0), "rank 3");
            assertMessage(() -> t.transpose(0, 1).reshape(24), "contiguous()");
        }
    }

    static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    private static boolean isIdentityOnNonUnitDims(int[] order, int[] shape) {
        int last = -1;
        for (int o : order) {
            if (shape[o] == 1) continue;
            if (o < last) return false;
            last = o;
        }
        return true;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    private static int[] randomPermutation(int n, SplittableRandom r) {
        int[] p = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static double[] toDoubles(int[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** fill writes exactly the view's elements (contiguous views take a bulk path, strided ones the index walk). */
    @Test
    void fillWritesExactlyTheViewsElements() {
        for (DType type : new DType[] {DType.F32, DType.F64, DType.I32, DType.I64, DType.F16, DType.BF16, DType.U8})
            for (double value : new double[] {0.0, -0.0, 3.0})
                for (boolean contiguous : new boolean[] {true, false}) {
                    try (Tensor base = Tensor.zeros(type, 4, 6)) {
                        for (long e = 0; e < 24; e++) base.writeAt(e, 9);
                        Tensor view = contiguous ? base.narrow(0, 1, 2) : base.narrow(1, 2, 3);
                        assertEquals(contiguous, view.isContiguous());
                        view.fill(value);
                        for (int r = 0; r < 4; r++)
                            for (int c = 0; c < 6; c++) {
                                boolean inside = contiguous ? r >= 1 && r < 3 : c >= 2 && c < 5;
                                double got = base.readAt(r * 6L + c);
                                String what = type + " fill(" + value + ") " + (contiguous ? "rows 1-2" : "columns 2-4") + " at " + r + "," + c;
                                boolean integer = type == DType.U8 || type == DType.I32 || type == DType.I64;
                                assertEquals(inside ? (integer ? value + 0.0 : value) : 9.0, got, what); // -0.0 stays -0.0 in floats
                            }
                    }
                }
    }
}
