package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import tessera.kernels.ComputePool;
import tessera.memory.Tensor;

/**
 * The packed Winograd filter transform U = G·g·Gᵀ equals, float for float, its scalar definition in float64 rounded
 * once — t = G·g with the products summed in tap order, then U = t·Gᵀ — at its packed index
 * u[group][point][kBlock][c][j], for any channel counts (blocks with fewer output channels than the block width,
 * input channels not a multiple of the vector width), groups, both tile sizes, the adjoint's transposed and flipped
 * reading of the filters, and one or two threads; the padding input channels are exact zeros.
 */
class WinogradFilterTransformTest {
    private static final double[][] G2 = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    private static final double[][] G4 = {{1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};

    @Test
    void packedTransformMatchesTheScalarDefinition() {
        qt().withExamples(60).forAll(integers().between(1, 40), integers().between(1, 40), integers().between(0, 15),
                        integers().between(0, 1 << 20))
                .checkAssert((cg, kg, variant, seed) -> {
                    F32Winograd wino = (variant & 1) == 0 ? F32Winograd.F2 : F32Winograd.F4;
                    boolean adjoint = (variant & 2) != 0;
                    int threads = 1 + ((variant >> 2) & 1), groups = 1 + (variant >> 3);
                    // the geometry whose filters are transformed: cg inputs and kg outputs per group
                    ConvGeom g = new ConvSpec(1, cg * groups, 8, 8, kg * groups, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, groups).geom();
                    int[] wShape = adjoint ? new int[] {cg * groups, kg, 3, 3} : new int[] {kg * groups, cg, 3, 3};
                    int saved = ComputePool.threads();
                    try (Tensor w = ConvTestSupport.randomF32(seed, wShape)) {
                        ComputePool.setThreads(threads);
                        float[] u = new float[Math.toIntExact(wino.transformedSize(g))];
                        java.util.Arrays.fill(u, Float.NaN); // every float must be written
                        wino.transformWeights(g, w.segment(), w.offset(), adjoint, u);
                        check(wino, g, w, adjoint, u);
                    } finally {
                        ComputePool.setThreads(saved);
                    }
                });
    }

    private static void check(F32Winograd wino, ConvGeom g, Tensor w, boolean adjoint, float[] u) {
        double[][] gm = wino.m == 2 ? G2 : G4;
        int a = wino.alpha, cg = g.cg(), kg = g.kg(), nb = F32Winograd.nb(g), kbs = F32Winograd.kBlocks(g), cp = F32Winograd.cPad(g);
        for (int gi = 0; gi < g.groups(); gi++)
            for (int ko = 0; ko < kg; ko++)
                for (int c = 0; c < cp; c++) {
                    double[] f = new double[9];
                    for (int r = 0; r < 3 && c < cg; r++)
                        for (int s = 0; s < 3; s++) {
                            long src = adjoint ? ((((long) gi * cg + c) * kg + ko) * 3 + (2 - r)) * 3 + (2 - s)
                                    : ((((long) gi * kg + ko) * cg + c) * 3 + r) * 3 + s;
                            f[r * 3 + s] = w.segment().getAtIndex(ValueLayout.JAVA_FLOAT, w.offset() + src);
                        }
                    for (int i = 0; i < a; i++)
                        for (int l = 0; l < a; l++) {
                            double[] t = new double[3];
                            for (int s = 0; s < 3; s++) t[s] = gm[i][0] * f[s] + gm[i][1] * f[3 + s] + gm[i][2] * f[6 + s];
                            float expected = c < cg ? (float) (t[0] * gm[l][0] + t[1] * gm[l][1] + t[2] * gm[l][2]) : 0f;
                            int dst = (((gi * a * a + i * a + l) * kbs + ko / nb) * cp + c) * nb + ko % nb;
                            assertEquals(expected, u[dst], "group " + gi + ", output channel " + ko + ", input channel " + c
                                    + ", point (" + i + "," + l + ") of " + g + (adjoint ? " (adjoint)" : ""));
                        }
                }
    }
}
