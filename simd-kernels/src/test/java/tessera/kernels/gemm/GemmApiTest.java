package tessera.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static tessera.kernels.gemm.GemmTestSupport.F;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import tessera.kernels.Activation;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** packA, Tensor matmul with dtype dispatch, degenerate sizes and argument validation. */
class GemmApiTest {

    @Test
    void packedAGivesBitwiseTheSameResultAsUnpacked() {
        qt().withExamples(40).forAll(integers().between(1, 160), integers().between(1, 60), integers().between(1, 600),
                integers().between(0, 15)).checkAssert((m, n, k, cfg) -> {
                    boolean transA = (cfg & 1) != 0, transB = (cfg & 2) != 0;
                    GemmEpilogue ep = (cfg & 4) != 0 ? null : GemmEpilogue.activation(Activation.RELU, 0f);
                    float beta = (cfg & 8) != 0 ? 0.5f : 0f;
                    int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2;
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment a = GemmTestSupport.randomFloats(arena, (long) (transA ? k : m) * lda, m * 7L + k);
                        MemorySegment b = GemmTestSupport.randomFloats(arena, (long) (transB ? n : k) * ldb, n * 5L + k);
                        MemorySegment c1 = GemmTestSupport.randomFloats(arena, (long) m * n, 9);
                        MemorySegment c2 = GemmTestSupport.copy(arena, c1);
                        Gemm.sgemm(transA, transB, m, n, k, 1.5f, a, 0, lda, b, 0, ldb, beta, c1, 0, n, ep);
                        PackedA p = Gemm.packA(transA, m, k, a, 0, lda);
                        assertEquals(m, p.m());
                        assertEquals(k, p.k());
                        Gemm.sgemm(p, transB, n, 1.5f, b, 0, ldb, beta, c2, 0, n, ep);
                        assertEquals(-1L, c1.mismatch(c2), "packed and unpacked results differ");
                    }
                });
    }

    @Test
    void matmulDispatchesOnDtypeAndAcceptsRowStridedViews() {
        try (Tensor big = Tensor.zeros(DType.F32, 7, 12); Tensor b = Tensor.zeros(DType.F32, 5, 9);
                Tensor c = Tensor.zeros(DType.F32, 7, 9)) {
            for (int i = 0; i < 7; i++) for (int j = 0; j < 12; j++) big.set((i * 12 + j) % 7 - 3, i, j);
            for (int i = 0; i < 5; i++) for (int j = 0; j < 9; j++) b.set((i + 2 * j) % 5 - 2, i, j);
            Tensor a = big.narrow(1, 2, 5); // 7×5 with row stride 12
            Gemm.matmul(a, false, b, false, 1f, 0f, c);
            Tensor ad = a.to(DType.F64), bd = b.to(DType.F64);
            try (Tensor cd = Tensor.zeros(DType.F64, 7, 9)) {
                Gemm.matmul(ad, false, bd, false, 1f, 0f, cd);
                for (int i = 0; i < 7; i++) {
                    for (int j = 0; j < 9; j++) {
                        double want = 0;
                        for (int p = 0; p < 5; p++) want += a.getDouble(i, p) * b.getDouble(p, j);
                        assertEquals(want, c.getDouble(i, j), 0, "F32 c[" + i + "][" + j + "]");
                        assertEquals(want, cd.getDouble(i, j), 0, "F64 c[" + i + "][" + j + "]");
                    }
                }
            }
            // transposed operands through views: c = (bᵀ-like) products agree with explicit transposes
            try (Tensor at = a.transpose(0, 1).contiguous(); Tensor c2 = Tensor.zeros(DType.F32, 7, 9)) {
                Gemm.matmul(at, true, b, false, 1f, 0f, c2);
                for (int i = 0; i < 7; i++) for (int j = 0; j < 9; j++) assertEquals(c.getDouble(i, j), c2.getDouble(i, j), 0);
            }
        }
    }

    @Test
    void matmulRejectsMismatchedShapesDtypesAndStrides() {
        try (Tensor a = Tensor.zeros(DType.F32, 3, 4); Tensor b = Tensor.zeros(DType.F32, 5, 2);
                Tensor c = Tensor.zeros(DType.F32, 3, 2); Tensor b64 = Tensor.zeros(DType.F64, 4, 2)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b, false, 1, 0, c));
            assertTrue(e.getMessage().contains("3×4") && e.getMessage().contains("5×2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b64, false, 1, 0, c));
            assertTrue(e.getMessage().contains("F64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a.transpose(0, 1), false,
                    Tensor.zeros(DType.F32, 3, 2), false, 1, 0, Tensor.zeros(DType.F32, 4, 2)));
            assertTrue(e.getMessage().contains("inner stride"), e.getMessage());
        }
    }

    @Test
    void degenerateSizes() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment c = arena.allocate(6 * 4);
            for (int i = 0; i < 6; i++) c.setAtIndex(F, i, i + 1);
            // k = 0: C = beta·C
            Gemm.sgemm(false, false, 2, 3, 0, 1f, null, 0, 1, null, 0, 3, 2f, c, 0, 3);
            for (int i = 0; i < 6; i++) assertEquals(2f * (i + 1), c.getAtIndex(F, i));
            // beta = 0 ignores NaN in C
            for (int i = 0; i < 6; i++) c.setAtIndex(F, i, Float.NaN);
            MemorySegment a = GemmTestSupport.randomFloats(arena, 2 * 4, 1), b = GemmTestSupport.randomFloats(arena, 4 * 3, 2);
            Gemm.sgemm(false, false, 2, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3);
            for (int i = 0; i < 6; i++) assertTrue(Float.isFinite(c.getAtIndex(F, i)), "NaN leaked from C with beta=0");
            // alpha = 0 with epilogue: C = relu(beta·C + rowBias)
            MemorySegment bias = arena.allocate(2 * 4);
            bias.setAtIndex(F, 0, -100f);
            bias.setAtIndex(F, 1, 100f);
            Gemm.sgemm(false, false, 2, 3, 4, 0f, a, 0, 4, b, 0, 3, 1f, c, 0, 3, GemmEpilogue.rowBias(bias, 0, Activation.RELU, 0f));
            for (int j = 0; j < 3; j++) assertEquals(0f, c.getAtIndex(F, j));
            for (int j = 3; j < 6; j++) assertTrue(c.getAtIndex(F, j) > 90f);
            // m = 0 or n = 0: nothing happens, null segments allowed
            Gemm.sgemm(false, false, 0, 3, 4, 1f, null, 0, 4, null, 0, 3, 0f, null, 0, 3);
            Gemm.sgemm(false, false, 2, 0, 4, 1f, null, 0, 4, null, 0, 1, 0f, null, 0, 1);
        }
    }

    @Test
    void badArgumentsNameTheParameterAndValues() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate(100 * 4);
            expect("m=-1", () -> Gemm.sgemm(false, false, -1, 2, 2, 1f, s, 0, 2, s, 0, 2, 0f, s, 0, 2));
            expect("k=-3", () -> Gemm.sgemm(false, false, 1, 2, -3, 1f, s, 0, 2, s, 0, 2, 0f, s, 0, 2));
            expect("lda=3", () -> Gemm.sgemm(false, false, 2, 2, 4, 1f, s, 0, 3, s, 0, 2, 0f, s, 0, 2));
            expect("lda=1", () -> Gemm.sgemm(true, false, 2, 2, 4, 1f, s, 0, 1, s, 0, 2, 0f, s, 0, 2));
            expect("ldb=2", () -> Gemm.sgemm(false, true, 2, 2, 4, 1f, s, 0, 4, s, 0, 2, 0f, s, 0, 2));
            expect("ldc=1", () -> Gemm.sgemm(false, false, 2, 2, 4, 1f, s, 0, 4, s, 0, 2, 0f, s, 0, 1));
            expect("segment B has 400 bytes", () -> Gemm.sgemm(false, false, 2, 30, 4, 1f, s, 0, 4, s, 0, 30, 0f,
                    arena.allocate(60 * 4), 0, 30));
            expect("segment C has 400 bytes", () -> Gemm.sgemm(false, false, 10, 10, 1, 1f, s, 0, 1, s, 0, 10, 0f, s, 1, 10));
            expect("offset -1", () -> Gemm.sgemm(false, false, 2, 2, 2, 1f, s, -1, 2, s, 0, 2, 0f, s, 0, 2));
            expect("epilogue.colBias", () -> Gemm.sgemm(false, false, 2, 20, 2, 1f, s, 0, 2, s, 0, 20, 0f, s, 0, 20,
                    GemmEpilogue.colBias(arena.allocate(8), 0, Activation.IDENTITY, 0f)));
            expect("ldResidual=5", () -> Gemm.sgemm(false, false, 2, 6, 2, 1f, s, 0, 2, s, 0, 6, 0f, s, 0, 6,
                    GemmEpilogue.NONE.withResidual(s, 0, 5)));
            expect("segment A has 400 bytes", () -> Gemm.dgemm(false, false, 8, 1, 8, 1, s, 0, 8, s, 0, 1, 0, s, 0, 1));
            expect("lda=2", () -> Gemm.packA(false, 4, 3, s, 0, 2));
            PackedA p = Gemm.packA(false, 4, 3, s, 0, 3);
            expect("ldb=1", () -> Gemm.sgemm(p, false, 2, 1f, s, 0, 1, 0f, s, 0, 2, null));
        }
    }

    private static void expect(String fragment, org.junit.jupiter.api.function.Executable call) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should mention '" + fragment + "'");
    }
}
