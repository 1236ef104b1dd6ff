package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import tessera.memory.Tensor;

/**
 * {@link Im2colPanelSource} writes exactly the packed panel of the explicit im2col matrix: every (row, column)
 * element, for random geometries (stride, padding, dilation, groups, batch) and random panel windows (first row,
 * depth, first column, width — windows crossing image boundaries included), with the padding columns of the last
 * strip zero and nothing written past the panel.
 */
class Im2colPanelSourceTest {

    @Test
    void panelsEqualTheExplicitIm2colMatrix() {
        qt().withExamples(300).forAll(ConvPropertiesTest.raws(), integers().between(0, 999), integers().between(0, 999),
                integers().between(0, 2)).checkAssert((raw, windowA, windowB, nrChoice) -> {
            ConvSpec spec = ConvTestSupport.spec(raw);
            ConvGeom g = spec.geom();
            int taps = g.cg() * g.r() * g.s(), cols = g.n() * g.p() * g.q();
            int nr = new int[] {8, 16, 32}[nrChoice];
            int p0 = ConvTestSupport.pick(windowA, 0, taps - 1), kc = ConvTestSupport.pick(windowB, 1, taps - p0);
            int j0 = ConvTestSupport.pick(windowB, 0, cols - 1), nc = ConvTestSupport.pick(windowA, 1, cols - j0);
            int group = g.groups() - 1;
            try (Tensor x = ConvTestSupport.randomF32(raw[0] + 31L * windowA, spec.inputShape())) {
                float[] xs = x.toFloatArray();
                long hw = (long) g.h() * g.w(), inImage = g.c() * hw;
                Im2colPanelSource src = Im2colPanelSource.of(g, x.segment(), x.offset() + group * g.cg() * hw, inImage);
                int strips = (nc + nr - 1) / nr;
                float[] dst = new float[strips * nr * kc + 5];
                Arrays.fill(dst, Float.NaN);
                src.pack(p0, kc, j0, nc, nr, dst);
                src.clear();
                for (int p = 0; p < kc; p++) {
                    for (int j = 0; j < strips * nr; j++) {
                        float got = dst[(j / nr) * nr * kc + p * nr + j % nr];
                        float want = j < nc ? element(g, xs, group, p0 + p, j0 + j) : 0f;
                        int pp = p, jj = j;
                        assertEquals(want, got, () -> "row " + (p0 + pp) + " column " + (j0 + jj) + " of " + spec
                                + " (panel rows " + p0 + "+" + kc + ", columns " + j0 + "+" + nc + ", NR " + nr + ")");
                    }
                }
                for (int i = strips * nr * kc; i < dst.length; i++) assertEquals(Float.NaN, dst[i], "written past the panel");
            }
        });
    }

    /** im2col[tap][column] of group {@code group}, straight from the definition. */
    private static float element(ConvGeom g, float[] x, int group, int tap, int column) {
        int rs = g.r() * g.s(), c = tap / rs, r = (tap % rs) / g.s(), s = tap % g.s();
        int pq = g.p() * g.q(), n = column / pq, oh = (column % pq) / g.q(), ow = column % g.q();
        int ih = oh * g.sh() - g.pt() + r * g.dh(), iw = ow * g.sw() - g.pl() + s * g.dw();
        if (ih < 0 || ih >= g.h() || iw < 0 || iw >= g.w()) return 0f;
        return x[(((n * g.c()) + group * g.cg() + c) * g.h() + ih) * g.w() + iw];
    }
}
