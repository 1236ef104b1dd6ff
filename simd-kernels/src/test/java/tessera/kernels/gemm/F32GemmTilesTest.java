package tessera.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.kernels.Activation;

/**
 * Every microkernel family on its own, on 128-, 256- and 512-bit species (all run on any x86-64 or aarch64 JVM; a
 * species wider than the hardware's runs in Java, slowly, so sizes stay small), against float64 sums, with the
 * per-element bound {@link GemmTestSupport#tolerance} (2·(k+6)·u·Σ|a||b|, linear in the reduction length); then
 * the whole driver with each kernel and small blockings, so edge tiles (m, n not multiples of MR, NR), k = 1 and
 * k not a multiple of KC are all reached.
 */
class F32GemmTilesTest {

    /** Random packed panels for kernel {@code kern}: kc steps of MR floats (A) and of NR floats (B). */
    private record Panels(float[] a, float[] b, int kc) {
        static Panels random(F32GemmMicrokernel kern, int kc, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] a = new float[kc * kern.mr + 3], b = new float[kc * kern.nr + 5];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
            for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() * 2 - 1);
            return new Panels(a, b, kc);
        }

        /** Σ_p a[aOff + p·MR + row]·b[bOff + p·NR + col] in float64, with {@code abs} the sum of magnitudes. */
        double dot(F32GemmMicrokernel k, int aOff, int bOff, int row, int col, boolean abs) {
            double s = 0;
            for (int p = 0; p < kc; p++) {
                double x = (double) a[aOff + p * k.mr + row] * b[bOff + p * k.nr + col];
                s += abs ? Math.abs(x) : x;
            }
            return s;
        }
    }

    private static void assertClose(double want, double got, double tol, String what) {
        assertTrue(Math.abs(got - want) <= tol, what + ": got " + got + ", float64 " + want + ", |diff| "
                + Math.abs(got - want) + " > tol " + tol);
    }

    @Test
    void everyFamilyOnEverySpeciesMatchesFloat64SumsInTheTileBuffer() {
        for (F32GemmMicrokernel kern : F32GemmTiles.ALL) {
            qt().withExamples(12).forAll(integers().between(1, 300), integers().between(0, 2), integers().between(0, 1 << 20))
                    .checkAssert((kc, aOff, seed) -> {
                        Panels p = Panels.random(kern, kc, seed);
                        float[] t = new float[kern.mr * kern.nr];
                        kern.compute(p.a, aOff, p.b, 1, kc, t);
                        float[] narrow = new float[kern.mr * kern.nr];
                        java.util.Arrays.fill(narrow, Float.NaN);
                        kern.computeNarrow(p.a, aOff, p.b, 1, kc, narrow);
                        for (int r = 0; r < kern.mr; r++) {
                            for (int c = 0; c < kern.nr; c++) {
                                double want = p.dot(kern, aOff, 1, r, c, false);
                                double tol = GemmTestSupport.tolerance(kc, p.dot(kern, aOff, 1, r, c, true));
                                String at = kern.name() + " kc=" + kc + " tile[" + r + "][" + c + "]";
                                assertClose(want, t[r * kern.nr + c], tol, at);
                                if (c < kern.v) assertClose(want, narrow[r * kern.nr + c], tol, at + " (narrow)");
                                else assertTrue(Float.isNaN(narrow[r * kern.nr + c]), at + " written by the narrow kernel");
                            }
                        }
                    });
        }
    }

    @Test
    void everyFamilyOnEverySpeciesStoresWholeTilesIntoC() {
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
        for (F32GemmMicrokernel kern : F32GemmTiles.ALL) {
            qt().withExamples(8).forAll(integers().between(1, 200), integers().between(0, 7), integers().between(0, 1 << 20))
                    .checkAssert((kc, pad, seed) -> {
                        Panels p = Panels.random(kern, kc, seed);
                        int ldc = kern.nr + pad, rows = kern.mr + 1;
                        boolean accumulate = (seed & 1) != 0;
                        try (Arena arena = Arena.ofConfined()) {
                            MemorySegment c0 = GemmTestSupport.randomFloats(arena, (long) rows * ldc + 3, seed + 7L);
                            MemorySegment c = GemmTestSupport.copy(arena, c0);
                            kern.computeInto(p.a, 0, p.b, 0, kc, c, 3 * 4L, ldc * 4L, accumulate);
                            for (int e = 0; e < rows * ldc + 3; e++) {
                                int r = (e - 3) / ldc, col = (e - 3) % ldc;
                                float old = c0.getAtIndex(f, e), got = c.getAtIndex(f, e);
                                if (e < 3 || r >= kern.mr || col >= kern.nr) {
                                    assertEquals(old, got, kern.name() + " wrote outside the tile at element " + e);
                                    continue;
                                }
                                double want = p.dot(kern, 0, 0, r, col, false) + (accumulate ? old : 0);
                                double mag = p.dot(kern, 0, 0, r, col, true) + (accumulate ? Math.abs(old) : 0);
                                assertClose(want, got, GemmTestSupport.tolerance(kc, mag),
                                        kern.name() + " computeInto kc=" + kc + " C[" + r + "][" + col + "]");
                            }
                        }
                    });
        }
    }

    @Test
    void driverWithEveryFamilyAndSpeciesHandlesEdgeTilesAndKBlocks() {
        for (F32GemmMicrokernel kern : F32GemmTiles.ALL) {
            // blocking: KC in [1, 24] so k crosses several blocks (and k = 1, k < KC occur), MC and NC of a few tiles
            qt().withExamples(40).forAll(integers().between(1, 3 * kern.mr + 2), integers().between(1, 3 * kern.nr + 3),
                    integers().between(1, 60), integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, bits) -> {
                        int kc = 1 + (bits >>> 3) % 24, mc = kern.mr * (1 + (bits >>> 5) % 3), nc = kern.nr * (1 + (bits >>> 7) % 2);
                        F32GemmConfig cfg = F32GemmConfig.of(kern, kc, mc, nc);
                        // identity, ReLU and Clip run the kernel's own tile epilogue, sigmoid the generic one
                        Activation[] acts = {Activation.RELU, Activation.CLIP, Activation.IDENTITY, Activation.SIGMOID};
                        GemmEpilogueSpec epi = (bits & 1) == 0 ? null
                                : new GemmEpilogueSpec(acts[(bits >>> 1) & 3], (bits & 8) == 0 || (bits & 16) == 0, false, (bits & 16) != 0);
                        GemmPropertiesTest.checkCase(cfg, m, n, k, bits, epi);
                    });
            GemmPropertiesTest.checkCase(F32GemmConfig.of(kern, 4, kern.mr, kern.nr), 1, 1, 1, 0, null);
        }
    }

    @Test
    void packedAFollowsTheKernelItWasPackedFor() {
        for (F32GemmMicrokernel kern : new F32GemmMicrokernel[] {F32Gemm4x2v.S256, F32Gemm6x2v.S512, F32Gemm12x2v.S128}) {
            F32GemmConfig cfg = F32GemmConfig.of(kern, 16, 2 * kern.mr, kern.nr);
            int m = 2 * kern.mr + 3, n = kern.nr + 5, k = 37;
            try (Arena arena = Arena.ofShared()) {
                MemorySegment a = GemmTestSupport.randomFloats(arena, (long) m * k, 1), b = GemmTestSupport.randomFloats(arena, (long) k * n, 2);
                MemorySegment c1 = arena.allocate((long) m * n * 4), c2 = arena.allocate((long) m * n * 4);
                Gemm.run(cfg, false, false, m, n, k, 1f, a, 0, k, null, b, 0, n, 0f, c1, 0, n, null);
                Gemm.sgemm(Gemm.packA(cfg, false, m, k, a, 0, k), false, n, 1f, b, 0, n, 0f, c2, 0, n, null);
                assertEquals(-1L, c1.mismatch(c2), kern.name() + ": packed and unpacked A differ");
            }
        }
    }

    @Test
    void selectorFollowsRegistersAndWidthAndTheOverride() {
        F32GemmCpu avx2 = new F32GemmCpu("amd64", 256, 16, "avx2", 32 << 10, 512 << 10, 16 << 20);
        F32GemmCpu avx512 = new F32GemmCpu("amd64", 512, 32, "avx512", 48 << 10, 2 << 20, 32 << 20);
        F32GemmCpu neon = new F32GemmCpu("aarch64", 128, 32, "neon", 64 << 10, 1 << 20, 32 << 20);
        assertEquals("f32-gemm-4x2v-256", F32GemmTileSelector.select(avx2, null).name());
        assertEquals("f32-gemm-6x2v-512", F32GemmTileSelector.select(avx512, null).name());
        assertEquals("f32-gemm-8x2v-128", F32GemmTileSelector.select(neon, null).name());
        assertEquals("f32-gemm-12x2v-512", F32GemmTileSelector.select(avx512, "12x2v").name());
        assertEquals("f32-gemm-6x2v-256", F32GemmTileSelector.select(avx512, " 6x2v-256 ").name());
        assertThrows(IllegalArgumentException.class, () -> F32GemmTileSelector.select(avx2, "5x5v"));
        assertThrows(IllegalArgumentException.class, () -> F32GemmTileSelector.select(avx2, "6x2v-wide"));
    }

    @Test
    void blockingFollowsCacheSizes() {
        F32GemmBlocking small = F32GemmBlocking.forCaches(F32Gemm4x2v.S256, 32 << 10, 512 << 10, 8 << 20);
        F32GemmBlocking big = F32GemmBlocking.forCaches(F32Gemm4x2v.S256, 64 << 10, 2 << 20, 32 << 20);
        assertTrue(big.kc() >= small.kc() && big.mc() > small.mc(), small + " vs " + big);
        for (F32GemmBlocking b : new F32GemmBlocking[] {small, big}) {
            assertEquals(0, b.mc() % 4, "MC a multiple of MR: " + b);
            assertEquals(0, b.nc() % 16, "NC a multiple of NR: " + b);
            assertTrue((long) b.mc() * b.kc() * 4 <= (512 << 10) * (b == big ? 4 : 1), "A block fits half of L2: " + b);
        }
        assertEquals(32 << 10, F32GemmCpu.parseSize("32K"));
        assertEquals(32L << 20, F32GemmCpu.parseSize("32M"));
        assertEquals(-1, F32GemmCpu.parseSize("lots"));
    }

    @Test
    void kernelInfoNamesTileIsaAndBlocking() {
        String info = Gemm.kernelInfo();
        F32GemmConfig d = F32GemmConfig.DEFAULT;
        assertTrue(info.startsWith("f32-gemm-" + d.kernel().shape() + "-" + d.cpu().isa()), info);
        assertTrue(info.contains("KC=" + d.blocking().kc()) && info.contains("MC=" + d.blocking().mc())
                && info.contains("NC=" + d.blocking().nc()), info);
    }
}
