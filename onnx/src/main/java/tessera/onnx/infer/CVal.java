package tessera.onnx.infer;

import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * A small constant evaluated at load time (shape arithmetic, folded weights): dtype, shape and row-major values as
 * doubles (exact for every int64 a shape can hold).
 */
record CVal(DType dtype, int[] shape, double[] data) {
    static CVal of(Tensor t) {
        return new CVal(t.dtype(), t.shape(), t.toDoubleArray());
    }

    static CVal longs(long... v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return new CVal(DType.I64, new int[] {v.length}, d);
    }

    int numel() { return data.length; }

    int rank() { return shape.length; }

    long[] toLongs() {
        long[] r = new long[data.length];
        for (int i = 0; i < r.length; i++) r[i] = (long) data[i];
        return r;
    }

    Tensor toTensor(TensorArena arena) {
        Tensor t = arena.allocate(dtype, shape);
        if (dtype == DType.F32) {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
            java.lang.foreign.MemorySegment.copy(f, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, f.length);
        } else {
            int[] idx = new int[shape.length];
            for (int i = 0; i < data.length; i++) {
                t.set(data[i], idx);
                for (int d = idx.length - 1; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
            }
        }
        return t;
    }

    @Override
    public String toString() { return dtype + Shapes.str(shape) + (data.length <= 16 ? Arrays.toString(data) : ""); }
}
