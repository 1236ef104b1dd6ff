package tessera.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional array in off-heap memory.
 *
 * <p>Data lives in a {@link MemorySegment} (64-byte aligned) owned by a {@link TensorArena}. A tensor is a view:
 * {@code shape}, {@code strides} (in elements, may be 0 for broadcast dimensions) and an element {@code offset}
 * into the segment. View operations ({@link #reshape}, {@link #permute}, {@link #narrow}, {@link #expand}, ...)
 * never copy; {@link #contiguous()} copies only when needed.
 *
 * <p>Lifetime: a tensor made by the static factories ({@link #zeros}, {@link #of}) owns a private arena and frees
 * it on {@link #close()}; a tensor allocated from a caller's {@link TensorArena}, and every view, is freed with
 * that arena and its {@code close()} does nothing. Touching freed memory throws {@link IllegalStateException}.
 *
 * <p>Element access ({@link #getDouble}, {@link #set}) is for tests and small code; bulk work goes through kernels.
 */
public final class Tensor implements AutoCloseable {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;
    private final DType dtype;
    private final int[] shape;
    private final long[] strides;
    private final long offset;
    private final Layout layout;
    private final TensorArena ownArena;

    Tensor(MemorySegment data, DType dtype, int[] shape, long[] strides, long offset, Layout layout, TensorArena ownArena) {
        this.data = data;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.layout = layout;
        this.ownArena = ownArena;
    }

    // ---------------------------------------------------------------- factories

    /** A zero-filled tensor with its own arena, freed by {@link #close()}. */
    public static Tensor zeros(DType type, int... shape) {
        TensorArena arena = new TensorArena();
        Tensor t = arena.allocate(type, shape);
        return new Tensor(t.data, type, t.shape, t.strides, 0, t.layout, arena);
    }

    /** A float32 zero-filled tensor with its own arena. */
    public static Tensor zeros(int... shape) { return zeros(DType.F32, shape); }

    /** A float32 tensor holding a copy of {@code values} (row-major), with its own arena. */
    public static Tensor of(float[] values, int... shape) {
        checkCount(values.length, shape);
        Tensor t = zeros(DType.F32, shape);
        MemorySegment.copy(values, 0, t.data, F32, 0, values.length);
        return t;
    }

    /** A float64 tensor holding a copy of {@code values} (row-major), with its own arena. */
    public static Tensor of(double[] values, int... shape) {
        checkCount(values.length, shape);
        Tensor t = zeros(DType.F64, shape);
        MemorySegment.copy(values, 0, t.data, F64, 0, values.length);
        return t;
    }

    /** An int64 tensor (labels, indices) holding a copy of {@code values}, with its own arena. */
    public static Tensor ofLongs(long[] values, int... shape) {
        checkCount(values.length, shape);
        Tensor t = zeros(DType.I64, shape);
        MemorySegment.copy(values, 0, t.data, I64, 0, values.length);
        return t;
    }

    /**
     * A contiguous view over an existing segment (no copy, no ownership). The segment must hold
     * {@code offset + numel} elements of {@code type}.
     */
    public static Tensor wrap(MemorySegment segment, DType type, long offset, int... shape) {
        if (offset < 0) throw new IllegalArgumentException("wrap: element offset " + offset + " is negative");
        long numel = Shapes.numel(shape);
        if (numel > Long.MAX_VALUE - offset) {
            throw new IllegalArgumentException("wrap: offset " + offset + " + " + numel + " elements overflows a long");
        }
        long need = Shapes.bytes(offset + numel, type);
        if (segment.byteSize() < need) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for a "
                    + type + " tensor of shape " + Shapes.str(shape) + " at element offset " + offset + " (needs " + need + ")");
        }
        return new Tensor(segment, type, shape.clone(), Shapes.contiguousStrides(shape), offset, Layout.defaultFor(shape.length), null);
    }

    private static void checkCount(int have, int[] shape) {
        if (Shapes.numel(shape) != have) {
            throw new IllegalArgumentException("values: " + have + " elements do not fill shape " + Shapes.str(shape)
                    + " (" + Shapes.numel(shape) + " elements)");
        }
    }

    // ---------------------------------------------------------------- metadata

    public DType dtype() { return dtype; }
    public Layout layout() { return layout; }
    public int rank() { return shape.length; }
    /** A copy of the shape. */
    public int[] shape() { return shape.clone(); }
    /** The shape array itself, never modified by a tensor: for tensors of this package that share it. */
    int[] shapeArray() { return shape; }
    /** The strides array itself, never modified by a tensor. */
    long[] stridesArray() { return strides; }
    /** True when the strides are the row-major ones of the shape (offset aside; size-1 dimensions any). */
    boolean hasContiguousStrides() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }
    /** True when {@code other} has exactly this shape (no copies: safe on allocation-free paths). */
    public boolean sameShapeAs(Tensor other) { return java.util.Arrays.equals(shape, other.shape); }
    /** True when this tensor's shape is exactly {@code dims} (no copies: safe on allocation-free paths). */
    public boolean hasShape(int[] dims) { return java.util.Arrays.equals(shape, dims); }
    /** Size of dimension {@code d}; negative {@code d} counts from the end. */
    public int dim(int d) { return shape[axis(d)]; }
    /** A copy of the strides, in elements. */
    public long[] strides() { return strides.clone(); }
    public long stride(int d) { return strides[axis(d)]; }
    /** Offset of element [0,...,0] into {@link #segment()}, in elements. */
    public long offset() { return offset; }
    /** Offset of element [0,...,0] into {@link #segment()}, in bytes ({@code offset() * dtype().byteSize()}). */
    public long byteOffset() { return offset * dtype.byteSize(); }
    /** The whole underlying segment (shared with every view of the same storage). */
    public MemorySegment segment() { checkAlive(); return data; }
    public long numel() { return Shapes.numel(shape); }
    public boolean isAlive() { return data.scope().isAlive(); }

    /** True when elements are laid out row-major with no gaps (offset may be non-zero); empty tensors are contiguous. */
    public boolean isContiguous() {
        for (int s : shape) if (s == 0) return true;
        return hasContiguousStrides();
    }

    /** The same view tagged with another layout (no data movement). */
    public Tensor withLayout(Layout newLayout) {
        return new Tensor(data, dtype, shape, strides, offset, newLayout, null);
    }

    int axis(int d) {
        int a = d < 0 ? d + shape.length : d;
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("axis " + d + " is out of range for a tensor of rank " + shape.length
                    + " and shape " + Shapes.str(shape));
        }
        return a;
    }

    /** Throws {@link IllegalStateException} if the memory of this tensor has been freed. */
    public void checkAlive() {
        if (!data.scope().isAlive()) {
            throw new IllegalStateException("tensor of shape " + Shapes.str(shape) + " (" + dtype
                    + ") was used after its memory was freed (its TensorArena or owning tensor is closed)");
        }
    }

    // ---------------------------------------------------------------- element access

    /** Element offset (in elements) of {@code index}, with bounds checks naming the index and shape. */
    public long elementOffset(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, tensor has rank " + shape.length + " (shape " + Shapes.str(shape) + ")");
        }
        long off = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IllegalArgumentException("index " + Arrays.toString(index) + " is out of bounds for shape "
                        + Shapes.str(shape) + " at dimension " + i);
            }
            off += index[i] * strides[i];
        }
        return off;
    }

    /** The element at {@code index} as a double, whatever the dtype. */
    public double getDouble(int... index) {
        checkAlive();
        return readAt(elementOffset(index));
    }

    /** The element at {@code index} as a float. */
    public float getFloat(int... index) { return (float) getDouble(index); }

    /** The value of a one-element tensor (any rank), without the index array {@link #getDouble} takes. */
    public double item() {
        checkAlive();
        if (numel() != 1) throw new IllegalStateException("item() of a tensor with " + numel() + " elements, shape " + Shapes.str(shape));
        return readAt(offset);
    }

    /** Sets the value of a one-element tensor (any rank), without the index array {@link #set} takes. */
    public void setItem(double value) {
        checkAlive();
        if (numel() != 1) throw new IllegalStateException("setItem() of a tensor with " + numel() + " elements, shape " + Shapes.str(shape));
        writeAt(offset, value);
    }

    /** Sets the element at {@code index} (converted to the dtype; integer types truncate). */
    public void set(double value, int... index) {
        checkAlive();
        writeAt(elementOffset(index), value);
    }

    /**
     * The element at flat element offset {@code elem} of the underlying segment (as computed from {@link #offset()}
     * and {@link #stride(int)}), as a double; no liveness or bounds check beyond the segment's own (kernels' slow paths).
     */
    public double readAt(long elem) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, elem);
            case F64 -> data.getAtIndex(F64, elem);
            case I32 -> data.getAtIndex(I32, elem);
            case I64 -> data.getAtIndex(I64, elem);
            default -> Elements.read(data, dtype, elem);
        };
    }

    /** Writes {@code v} (converted to the dtype) at flat element offset {@code elem}; see {@link #readAt(long)}. */
    public void writeAt(long elem, double v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, elem, (float) v);
            case F64 -> data.setAtIndex(F64, elem, v);
            case I32 -> data.setAtIndex(I32, elem, (int) v);
            case I64 -> data.setAtIndex(I64, elem, (long) v);
            default -> Elements.write(data, dtype, elem, v);
        }
    }

    /** Every element in row-major order, as doubles. */
    public double[] toDoubleArray() {
        checkAlive();
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor of " + n + " elements is too large for an array");
        double[] out = new double[(int) n];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = readAt(offsetOfRowMajor(idx));
            increment(idx);
        }
        return out;
    }

    /** Every element in row-major order, as floats. */
    public float[] toFloatArray() {
        double[] d = toDoubleArray();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private long offsetOfRowMajor(int[] idx) {
        long off = offset;
        for (int i = 0; i < idx.length; i++) off += idx[i] * strides[i];
        return off;
    }

    private void increment(int[] idx) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) return;
            idx[d] = 0;
        }
    }

    // ---------------------------------------------------------------- views

    /**
     * The same elements with a new shape (one dimension may be -1). A view when the strides allow it
     * (always for contiguous tensors); otherwise an {@link IllegalArgumentException} suggesting {@link #contiguous()}.
     */
    public Tensor reshape(int... newShape) {
        int[] target = inferShape(newShape);
        if (isContiguous()) {
            return new Tensor(data, dtype, target, Shapes.contiguousStrides(target), offset, Layout.defaultFor(target.length), null);
        }
        long[] st = viewStrides(target);
        if (st == null) {
            throw new IllegalArgumentException("cannot reshape a non-contiguous tensor of shape " + Shapes.str(shape)
                    + " and strides " + Arrays.toString(strides) + " to " + Shapes.str(target) + " without copying; call contiguous() first");
        }
        return new Tensor(data, dtype, target, st, offset, Layout.defaultFor(target.length), null);
    }

    private int[] inferShape(int[] newShape) {
        int[] t = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape " + Shapes.str(newShape) + ": only one dimension may be -1");
                infer = i;
            } else if (t[i] < 0) {
                throw new IllegalArgumentException("reshape " + Shapes.str(newShape) + ": dimension " + i + " is negative");
            } else {
                try {
                    known = Math.multiplyExact(known, t[i]);
                } catch (ArithmeticException e) {
                    throw new IllegalArgumentException("reshape " + Shapes.str(newShape) + ": element count overflows a long");
                }
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("cannot reshape shape " + Shapes.str(shape) + " (" + n + " elements) to " + Shapes.str(newShape));
            }
            t[infer] = Math.toIntExact(n / known);
        } else if (known != n) {
            throw new IllegalArgumentException("cannot reshape shape " + Shapes.str(shape) + " (" + n + " elements) to "
                    + Shapes.str(newShape) + " (" + known + " elements)");
        }
        return t;
    }

    /** Strides for viewing this (non-contiguous) tensor as {@code target}, or null if impossible (PyTorch's rule). */
    private long[] viewStrides(int[] target) {
        long[] out = new long[target.length];
        int oi = 0, ti = 0;
        while (oi < shape.length || ti < target.length) {
            // group old dims [oi, oe) with target dims [ti, te) that have equal products
            long op = 1, tp = 1;
            int oe = oi, te = ti;
            if (oe < shape.length) op *= shape[oe++];
            if (te < target.length) tp *= target[te++];
            while (op != tp) {
                if (op < tp && oe < shape.length) op *= shape[oe++];
                else if (tp < op && te < target.length) tp *= target[te++];
                else return null;
            }
            // the old chunk must be contiguous within itself (size-1 dimensions do not matter)
            int prev = -1;
            for (int k = oi; k < oe; k++) {
                if (shape[k] == 1) continue;
                if (prev >= 0 && strides[prev] != strides[k] * shape[k]) return null;
                prev = k;
            }
            long st = prev >= 0 ? strides[prev] : 1;
            for (int k = te - 1; k >= ti; k--) {
                out[k] = st;
                st *= target[k];
            }
            oi = oe;
            ti = te;
        }
        return out;
    }

    /** Reorders dimensions: result dimension i is this tensor's dimension {@code order[i]}. */
    public Tensor permute(int... order) {
        if (order.length != shape.length) {
            throw new IllegalArgumentException("permute " + Arrays.toString(order) + " needs " + shape.length + " axes for shape " + Shapes.str(shape));
        }
        boolean[] seen = new boolean[order.length];
        int[] ns = new int[order.length];
        long[] nst = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = axis(order[i]);
            if (seen[a]) throw new IllegalArgumentException("permute " + Arrays.toString(order) + " repeats axis " + a);
            seen[a] = true;
            ns[i] = shape[a];
            nst[i] = strides[a];
        }
        return new Tensor(data, dtype, ns, nst, offset, Layout.ANY, null);
    }

    /** Swaps two dimensions. */
    public Tensor transpose(int a, int b) {
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        int x = axis(a), y = axis(b);
        order[x] = y;
        order[y] = x;
        return permute(order);
    }

    /** Elements {@code start .. start+length-1} along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int a = axis(dim);
        if (start < 0 || length < 0 || (long) start + length > shape[a]) {
            throw new IllegalArgumentException("narrow(start=" + start + ", length=" + length + ") is out of range for dimension "
                    + a + " of size " + shape[a] + " (shape " + Shapes.str(shape) + ")");
        }
        return slice(dim, start, start + length, 1);
    }

    /** Elements {@code start, start+step, ... < end} along {@code dim} (step >= 1). */
    public Tensor slice(int dim, int start, int end, int step) {
        int a = axis(dim);
        if (step < 1) throw new IllegalArgumentException("slice step " + step + " must be >= 1");
        if (start < 0 || end > shape[a] || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") is out of range for dimension " + a
                    + " of size " + shape[a] + " (shape " + Shapes.str(shape) + ")");
        }
        int[] ns = shape.clone();
        long[] nst = strides.clone();
        ns[a] = (int) (((long) end - start + step - 1) / step);
        nst[a] = strides[a] * step;
        return new Tensor(data, dtype, ns, nst, offset + start * strides[a], layout, null);
    }

    /** Broadcasts size-1 dimensions (and new leading ones) to {@code target} with stride 0; no copy. */
    public Tensor expand(int... target) {
        Shapes.numel(target); // rejects negative sizes and overflow
        if (target.length < shape.length) {
            throw new IllegalArgumentException("expand: target " + Shapes.str(target) + " has fewer dimensions than " + Shapes.str(shape));
        }
        int lead = target.length - shape.length;
        long[] nst = new long[target.length];
        for (int i = 0; i < target.length; i++) {
            if (i < lead) { nst[i] = 0; continue; }
            int s = shape[i - lead];
            if (s == target[i]) nst[i] = strides[i - lead];
            else if (s == 1) nst[i] = 0;
            else throw new IllegalArgumentException("expand: dimension " + (i - lead) + " of shape " + Shapes.str(shape)
                        + " has size " + s + ", cannot broadcast to " + Shapes.str(target));
        }
        return new Tensor(data, dtype, target.clone(), nst, offset, layout, null);
    }

    /** This tensor if contiguous, otherwise a contiguous copy in a new self-owned arena. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /** A contiguous copy with its own arena. */
    public Tensor copy() {
        Tensor t = zeros(dtype, shape);
        t.copyFrom(this);
        return t.withOwnership(layout);
    }

    /** A contiguous copy allocated in {@code arena}. */
    public Tensor copy(TensorArena arena) {
        Tensor t = arena.allocate(dtype, layout, shape);
        t.copyFrom(this);
        return t;
    }

    private Tensor withOwnership(Layout l) {
        return new Tensor(data, dtype, shape, strides, offset, l, ownArena);
    }

    /** Copies {@code src} (same shape, any strides, any dtype: values are converted) into this tensor. */
    public void copyFrom(Tensor src) {
        if (!Arrays.equals(shape, src.shape)) {
            throw new IllegalArgumentException("copyFrom: source shape " + Shapes.str(src.shape) + " differs from destination " + Shapes.str(shape));
        }
        checkAlive();
        src.checkAlive();
        if (dtype == src.dtype && isContiguous() && src.isContiguous()) {
            long bytes = Shapes.bytes(numel(), dtype);
            MemorySegment.copy(src.data, src.offset * dtype.byteSize(), data, offset * dtype.byteSize(), bytes);
            return;
        }
        int[] idx = new int[shape.length];
        long n = numel();
        for (long i = 0; i < n; i++) {
            writeAt(offsetOfRowMajor(idx), src.readAt(src.offsetOfRowMajor(idx)));
            increment(idx);
        }
    }

    /** Sets every element to {@code value}. */
    public void fill(double value) {
        checkAlive();
        long n = numel();
        if (isContiguous()) { // optimizers zero every gradient on every step: one bulk fill, not an index walk
            if (Double.doubleToRawLongBits(value) == 0) {
                data.asSlice(offset * dtype.byteSize(), n * dtype.byteSize()).fill((byte) 0);
            } else {
                for (long i = 0; i < n; i++) writeAt(offset + i, value);
            }
            return;
        }
        int[] idx = new int[shape.length];
        for (long i = 0; i < n; i++) {
            writeAt(offsetOfRowMajor(idx), value);
            increment(idx);
        }
    }

    /** A converted contiguous copy with its own arena. */
    public Tensor to(DType type) {
        Tensor t = zeros(type, shape);
        t.copyFrom(this);
        return t.withOwnership(layout);
    }

    /** Frees the memory if this tensor owns its arena (see class doc); otherwise does nothing. Idempotent. */
    @Override
    public void close() {
        if (ownArena != null) ownArena.close();
    }

    @Override
    public String toString() {
        return "Tensor" + Shapes.str(shape) + " " + dtype + (layout == Layout.ANY ? "" : " " + layout);
    }
}
