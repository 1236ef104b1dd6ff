package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32-gemm-8x2v: MR = 8 rows × NR = 2 vectors of one species, 16 vector accumulators;
 * 16 accumulators + 3 = 19 registers: for 32-register files (NEON, AVX-512).
 * One nested class per species ({@link #S128}, {@link #S256}, {@link #S512}) because C2 compiles Vector API calls
 * only when the species is a compile-time constant: each holds its species in a static final field; the loop bodies
 * are identical apart from that constant. Contract and layouts: {@link F32GemmMicrokernel}.
 */
final class F32Gemm8x2v {
    private F32Gemm8x2v() {}

    /** 8x2v on 128-bit vectors. */
    static final F32GemmMicrokernel S128 = new V128();
    /** 8x2v on 256-bit vectors. */
    static final F32GemmMicrokernel S256 = new V256();
    /** 8x2v on 512-bit vectors. */
    static final F32GemmMicrokernel S512 = new V512();

    private static final class V128 extends F32GemmMicrokernel {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_128;
        private static final int V = 4, NR = 2 * V;
        private static final long VB = V * 4L;
        private static final ByteOrder NO = ByteOrder.nativeOrder();

        V128() { super(8, 2, S); }

        @Override
        void compute(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            c00.intoArray(t, 0);
            c01.intoArray(t, V);
            c10.intoArray(t, NR);
            c11.intoArray(t, NR + V);
            c20.intoArray(t, 2 * NR);
            c21.intoArray(t, 2 * NR + V);
            c30.intoArray(t, 3 * NR);
            c31.intoArray(t, 3 * NR + V);
            c40.intoArray(t, 4 * NR);
            c41.intoArray(t, 4 * NR + V);
            c50.intoArray(t, 5 * NR);
            c51.intoArray(t, 5 * NR + V);
            c60.intoArray(t, 6 * NR);
            c61.intoArray(t, 6 * NR + V);
            c70.intoArray(t, 7 * NR);
            c71.intoArray(t, 7 * NR + V);
        }

        @Override
        void computeInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cByte, long ldcBytes,
                boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromMemorySegment(S, c, cByte, NO));
                c01 = c01.add(FloatVector.fromMemorySegment(S, c, cByte + VB, NO));
                c10 = c10.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes, NO));
                c11 = c11.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes + VB, NO));
                c20 = c20.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes, NO));
                c21 = c21.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes + VB, NO));
                c30 = c30.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes, NO));
                c31 = c31.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes + VB, NO));
                c40 = c40.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes, NO));
                c41 = c41.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes + VB, NO));
                c50 = c50.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes, NO));
                c51 = c51.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes + VB, NO));
                c60 = c60.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes, NO));
                c61 = c61.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes + VB, NO));
                c70 = c70.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes, NO));
                c71 = c71.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes + VB, NO));
            }
            c00.intoMemorySegment(c, cByte, NO);
            c01.intoMemorySegment(c, cByte + VB, NO);
            c10.intoMemorySegment(c, cByte + ldcBytes, NO);
            c11.intoMemorySegment(c, cByte + ldcBytes + VB, NO);
            c20.intoMemorySegment(c, cByte + 2 * ldcBytes, NO);
            c21.intoMemorySegment(c, cByte + 2 * ldcBytes + VB, NO);
            c30.intoMemorySegment(c, cByte + 3 * ldcBytes, NO);
            c31.intoMemorySegment(c, cByte + 3 * ldcBytes + VB, NO);
            c40.intoMemorySegment(c, cByte + 4 * ldcBytes, NO);
            c41.intoMemorySegment(c, cByte + 4 * ldcBytes + VB, NO);
            c50.intoMemorySegment(c, cByte + 5 * ldcBytes, NO);
            c51.intoMemorySegment(c, cByte + 5 * ldcBytes + VB, NO);
            c60.intoMemorySegment(c, cByte + 6 * ldcBytes, NO);
            c61.intoMemorySegment(c, cByte + 6 * ldcBytes + VB, NO);
            c70.intoMemorySegment(c, cByte + 7 * ldcBytes, NO);
            c71.intoMemorySegment(c, cByte + 7 * ldcBytes + VB, NO);
        }

        @Override
        void computeNarrow(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
            FloatVector c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
                c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
                c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
                c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
                c4 = FloatVector.broadcast(S, a[ap + 4]).fma(b0, c4);
                c5 = FloatVector.broadcast(S, a[ap + 5]).fma(b0, c5);
                c6 = FloatVector.broadcast(S, a[ap + 6]).fma(b0, c6);
                c7 = FloatVector.broadcast(S, a[ap + 7]).fma(b0, c7);
            }
            c0.intoArray(t, 0);
            c1.intoArray(t, NR);
            c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR);
            c4.intoArray(t, 4 * NR);
            c5.intoArray(t, 5 * NR);
            c6.intoArray(t, 6 * NR);
            c7.intoArray(t, 7 * NR);
        }
    }

    private static final class V256 extends F32GemmMicrokernel {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
        private static final int V = 8, NR = 2 * V;
        private static final long VB = V * 4L;
        private static final ByteOrder NO = ByteOrder.nativeOrder();

        V256() { super(8, 2, S); }

        @Override
        void compute(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            c00.intoArray(t, 0);
            c01.intoArray(t, V);
            c10.intoArray(t, NR);
            c11.intoArray(t, NR + V);
            c20.intoArray(t, 2 * NR);
            c21.intoArray(t, 2 * NR + V);
            c30.intoArray(t, 3 * NR);
            c31.intoArray(t, 3 * NR + V);
            c40.intoArray(t, 4 * NR);
            c41.intoArray(t, 4 * NR + V);
            c50.intoArray(t, 5 * NR);
            c51.intoArray(t, 5 * NR + V);
            c60.intoArray(t, 6 * NR);
            c61.intoArray(t, 6 * NR + V);
            c70.intoArray(t, 7 * NR);
            c71.intoArray(t, 7 * NR + V);
        }

        @Override
        void computeInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cByte, long ldcBytes,
                boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromMemorySegment(S, c, cByte, NO));
                c01 = c01.add(FloatVector.fromMemorySegment(S, c, cByte + VB, NO));
                c10 = c10.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes, NO));
                c11 = c11.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes + VB, NO));
                c20 = c20.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes, NO));
                c21 = c21.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes + VB, NO));
                c30 = c30.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes, NO));
                c31 = c31.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes + VB, NO));
                c40 = c40.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes, NO));
                c41 = c41.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes + VB, NO));
                c50 = c50.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes, NO));
                c51 = c51.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes + VB, NO));
                c60 = c60.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes, NO));
                c61 = c61.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes + VB, NO));
                c70 = c70.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes, NO));
                c71 = c71.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes + VB, NO));
            }
            c00.intoMemorySegment(c, cByte, NO);
            c01.intoMemorySegment(c, cByte + VB, NO);
            c10.intoMemorySegment(c, cByte + ldcBytes, NO);
            c11.intoMemorySegment(c, cByte + ldcBytes + VB, NO);
            c20.intoMemorySegment(c, cByte + 2 * ldcBytes, NO);
            c21.intoMemorySegment(c, cByte + 2 * ldcBytes + VB, NO);
            c30.intoMemorySegment(c, cByte + 3 * ldcBytes, NO);
            c31.intoMemorySegment(c, cByte + 3 * ldcBytes + VB, NO);
            c40.intoMemorySegment(c, cByte + 4 * ldcBytes, NO);
            c41.intoMemorySegment(c, cByte + 4 * ldcBytes + VB, NO);
            c50.intoMemorySegment(c, cByte + 5 * ldcBytes, NO);
            c51.intoMemorySegment(c, cByte + 5 * ldcBytes + VB, NO);
            c60.intoMemorySegment(c, cByte + 6 * ldcBytes, NO);
            c61.intoMemorySegment(c, cByte + 6 * ldcBytes + VB, NO);
            c70.intoMemorySegment(c, cByte + 7 * ldcBytes, NO);
            c71.intoMemorySegment(c, cByte + 7 * ldcBytes + VB, NO);
        }

        @Override
        void computeNarrow(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
            FloatVector c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
                c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
                c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
                c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
                c4 = FloatVector.broadcast(S, a[ap + 4]).fma(b0, c4);
                c5 = FloatVector.broadcast(S, a[ap + 5]).fma(b0, c5);
                c6 = FloatVector.broadcast(S, a[ap + 6]).fma(b0, c6);
                c7 = FloatVector.broadcast(S, a[ap + 7]).fma(b0, c7);
            }
            c0.intoArray(t, 0);
            c1.intoArray(t, NR);
            c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR);
            c4.intoArray(t, 4 * NR);
            c5.intoArray(t, 5 * NR);
            c6.intoArray(t, 6 * NR);
            c7.intoArray(t, 7 * NR);
        }
    }

    private static final class V512 extends F32GemmMicrokernel {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
        private static final int V = 16, NR = 2 * V;
        private static final long VB = V * 4L;
        private static final ByteOrder NO = ByteOrder.nativeOrder();

        V512() { super(8, 2, S); }

        @Override
        void compute(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            c00.intoArray(t, 0);
            c01.intoArray(t, V);
            c10.intoArray(t, NR);
            c11.intoArray(t, NR + V);
            c20.intoArray(t, 2 * NR);
            c21.intoArray(t, 2 * NR + V);
            c30.intoArray(t, 3 * NR);
            c31.intoArray(t, 3 * NR + V);
            c40.intoArray(t, 4 * NR);
            c41.intoArray(t, 4 * NR + V);
            c50.intoArray(t, 5 * NR);
            c51.intoArray(t, 5 * NR + V);
            c60.intoArray(t, 6 * NR);
            c61.intoArray(t, 6 * NR + V);
            c70.intoArray(t, 7 * NR);
            c71.intoArray(t, 7 * NR + V);
        }

        @Override
        void computeInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cByte, long ldcBytes,
                boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
                FloatVector x0 = FloatVector.broadcast(S, a[ap]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(S, a[ap + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(S, a[ap + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(S, a[ap + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
                FloatVector x4 = FloatVector.broadcast(S, a[ap + 4]);
                c40 = x4.fma(b0, c40);
                c41 = x4.fma(b1, c41);
                FloatVector x5 = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x5.fma(b0, c50);
                c51 = x5.fma(b1, c51);
                FloatVector x6 = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x6.fma(b0, c60);
                c61 = x6.fma(b1, c61);
                FloatVector x7 = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x7.fma(b0, c70);
                c71 = x7.fma(b1, c71);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromMemorySegment(S, c, cByte, NO));
                c01 = c01.add(FloatVector.fromMemorySegment(S, c, cByte + VB, NO));
                c10 = c10.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes, NO));
                c11 = c11.add(FloatVector.fromMemorySegment(S, c, cByte + ldcBytes + VB, NO));
                c20 = c20.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes, NO));
                c21 = c21.add(FloatVector.fromMemorySegment(S, c, cByte + 2 * ldcBytes + VB, NO));
                c30 = c30.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes, NO));
                c31 = c31.add(FloatVector.fromMemorySegment(S, c, cByte + 3 * ldcBytes + VB, NO));
                c40 = c40.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes, NO));
                c41 = c41.add(FloatVector.fromMemorySegment(S, c, cByte + 4 * ldcBytes + VB, NO));
                c50 = c50.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes, NO));
                c51 = c51.add(FloatVector.fromMemorySegment(S, c, cByte + 5 * ldcBytes + VB, NO));
                c60 = c60.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes, NO));
                c61 = c61.add(FloatVector.fromMemorySegment(S, c, cByte + 6 * ldcBytes + VB, NO));
                c70 = c70.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes, NO));
                c71 = c71.add(FloatVector.fromMemorySegment(S, c, cByte + 7 * ldcBytes + VB, NO));
            }
            c00.intoMemorySegment(c, cByte, NO);
            c01.intoMemorySegment(c, cByte + VB, NO);
            c10.intoMemorySegment(c, cByte + ldcBytes, NO);
            c11.intoMemorySegment(c, cByte + ldcBytes + VB, NO);
            c20.intoMemorySegment(c, cByte + 2 * ldcBytes, NO);
            c21.intoMemorySegment(c, cByte + 2 * ldcBytes + VB, NO);
            c30.intoMemorySegment(c, cByte + 3 * ldcBytes, NO);
            c31.intoMemorySegment(c, cByte + 3 * ldcBytes + VB, NO);
            c40.intoMemorySegment(c, cByte + 4 * ldcBytes, NO);
            c41.intoMemorySegment(c, cByte + 4 * ldcBytes + VB, NO);
            c50.intoMemorySegment(c, cByte + 5 * ldcBytes, NO);
            c51.intoMemorySegment(c, cByte + 5 * ldcBytes + VB, NO);
            c60.intoMemorySegment(c, cByte + 6 * ldcBytes, NO);
            c61.intoMemorySegment(c, cByte + 6 * ldcBytes + VB, NO);
            c70.intoMemorySegment(c, cByte + 7 * ldcBytes, NO);
            c71.intoMemorySegment(c, cByte + 7 * ldcBytes + VB, NO);
        }

        @Override
        void computeNarrow(float[] a, int aOff, float[] b, int bOff, int kc, float[] t) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
            FloatVector c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S);
            for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += 8, bp += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bp);
                c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
                c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
                c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
                c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
                c4 = FloatVector.broadcast(S, a[ap + 4]).fma(b0, c4);
                c5 = FloatVector.broadcast(S, a[ap + 5]).fma(b0, c5);
                c6 = FloatVector.broadcast(S, a[ap + 6]).fma(b0, c6);
                c7 = FloatVector.broadcast(S, a[ap + 7]).fma(b0, c7);
            }
            c0.intoArray(t, 0);
            c1.intoArray(t, NR);
            c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR);
            c4.intoArray(t, 4 * NR);
            c5.intoArray(t, 5 * NR);
            c6.intoArray(t, 6 * NR);
            c7.intoArray(t, 7 * NR);
        }
    }
}
