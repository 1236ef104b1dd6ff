package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

/**
 * The channel-last weight gradient ({@link ChannelLastPatchSource}: taps in (r, s, c) order, one product over the
 * batch, then the permutation to [K][C][R][S]) against the float64 reference, for any kernel size, stride, dilation
 * and padding with 16–40 input channels (runs that end inside an NR strip and strips that span taps), and with the
 * batch split into runs of single images so the product accumulates across runs.
 */
class ConvWeightGradChannelLastTest {
    private static ConvSpec withChannels(ConvSpec r, int c) {
        return new ConvSpec(r.batch(), c, r.inH(), r.inW(), r.outChannels() / r.groups(), r.kernelH(), r.kernelW(),
                r.strideH(), r.strideW(), r.padTop(), r.padLeft(), r.padBottom(), r.padRight(), r.dilationH(), r.dilationW(), 1);
    }

    @Test
    void channelLastWeightGradientMatchesTheReference() {
        qt().withExamples(40).forAll(ConvPropertiesTest.raws(), integers().between(16, 40), integers().between(0, 1 << 20))
                .checkAssert((raw, c, seed) -> {
                    ConvSpec s = withChannels(ConvTestSupport.spec(raw), c);
                    assertTrue(F32ConvIm2col.usesChannelLast(s.geom()) || s.geom().isPointwise(), "path not taken for " + s);
                    ConvPropertiesTest.checkAll(s, seed);
                });
    }

    @Test
    void runsOfSingleImagesAccumulate() {
        long saved = F32ConvIm2col.channelLastFloats;
        try {
            F32ConvIm2col.channelLastFloats = 1; // one image per run
            qt().withExamples(15).forAll(ConvPropertiesTest.raws(), integers().between(16, 24), integers().between(0, 1 << 20))
                    .checkAssert((raw, c, seed) -> {
                        ConvSpec r = withChannels(ConvTestSupport.spec(raw), c);
                        ConvSpec s = new ConvSpec(2 + raw[0] % 3, r.inChannels(), r.inH(), r.inW(), r.outChannels(), r.kernelH(),
                                r.kernelW(), r.strideH(), r.strideW(), r.padTop(), r.padLeft(), r.padBottom(), r.padRight(),
                                r.dilationH(), r.dilationW(), 1);
                        ConvPropertiesTest.checkAll(s, seed);
                    });
        } finally {
            F32ConvIm2col.channelLastFloats = saved;
        }
    }
}
