package tessera.kernels.volume;

import tessera.memory.Tensor;

/**
 * float64 reference 3-D convolutions: loops that read like the definitions, over tensors of any float type (read and
 * written through {@link Tensor#readAt}/{@link Tensor#writeAt} at their offsets; contiguous NCDHW data). The test oracle, and the
 * path {@link Conv3d} runs for float64 tensors.
 */
final class Conv3dReference {
    private Conv3dReference() {}

    static void forward(Conv3dSpec s, Tensor x, Tensor w, Tensor bias, Tensor y) {
        int[] in = s.in(), out = s.out(), k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        for (int n = 0; n < s.batch(); n++)
            for (int oc = 0; oc < s.outChannels(); oc++)
                for (int od = 0; od < out[0]; od++)
                    for (int oh = 0; oh < out[1]; oh++)
                        for (int ow = 0; ow < out[2]; ow++) {
                            double sum = bias == null ? 0 : bias.readAt(bias.offset() + oc);
                            for (int c = 0; c < cg; c++) {
                                int ic = oc / kg * cg + c;
                                for (int td = 0; td < k[0]; td++)
                                    for (int th = 0; th < k[1]; th++)
                                        for (int tw = 0; tw < k[2]; tw++) {
                                            int id = od * st[0] - p[0] + td * dl[0], ih = oh * st[1] - p[1] + th * dl[1], iw = ow * st[2] - p[2] + tw * dl[2];
                                            if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2]) continue;
                                            sum += x.readAt(x.offset() + index(n, ic, s.inChannels(), in, id, ih, iw))
                                                    * w.readAt(w.offset() + index(oc, c, cg, k, td, th, tw));
                                        }
                            }
                            y.writeAt(y.offset() + index(n, oc, s.outChannels(), out, od, oh, ow), sum);
                        }
    }

    static void transposeForward(ConvTranspose3dSpec s, Tensor x, Tensor w, Tensor bias, Tensor y) {
        int[] in = s.in(), out = s.out(), k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        double[] acc = new double[Math.toIntExact(y.numel())];
        for (int n = 0; n < s.batch(); n++)
            for (int ic = 0; ic < s.inChannels(); ic++)
                for (int id = 0; id < in[0]; id++)
                    for (int ih = 0; ih < in[1]; ih++)
                        for (int iw = 0; iw < in[2]; iw++) {
                            double v = x.readAt(x.offset() + index(n, ic, s.inChannels(), in, id, ih, iw));
                            for (int j = 0; j < kg; j++) {
                                int oc = ic / cg * kg + j;
                                for (int td = 0; td < k[0]; td++)
                                    for (int th = 0; th < k[1]; th++)
                                        for (int tw = 0; tw < k[2]; tw++) {
                                            int od = id * st[0] - p[0] + td * dl[0], oh = ih * st[1] - p[1] + th * dl[1], ow = iw * st[2] - p[2] + tw * dl[2];
                                            if (od < 0 || od >= out[0] || oh < 0 || oh >= out[1] || ow < 0 || ow >= out[2]) continue;
                                            acc[(int) index(n, oc, s.outChannels(), out, od, oh, ow)] += v * w.readAt(w.offset() + index(ic, j, kg, k, td, th, tw));
                                        }
                            }
                        }
        long vol = (long) out[0] * out[1] * out[2];
        for (int i = 0; i < acc.length; i++) y.writeAt(y.offset() + i, acc[i] + (bias == null ? 0 : bias.readAt(bias.offset() + i / vol % s.outChannels())));
    }

    /** dx = Σ over outputs and taps of dy · w, scattered to the input element each tap read. */
    static void backwardData(Conv3dSpec s, Tensor dy, Tensor w, Tensor dx) {
        double[] acc = new double[Math.toIntExact(dx.numel())];
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        taps(s.geom(), (grid, tap, vol) -> {
            for (int n = 0; n < s.batch(); n++)
                for (int oc = 0; oc < s.outChannels(); oc++)
                    for (int c = 0; c < cg; c++) {
                        int ic = oc / kg * cg + c;
                        acc[(int) (((long) n * s.inChannels() + ic) * s.geom().volumeSize() + vol)] +=
                                dy.readAt(dy.offset() + ((long) n * s.outChannels() + oc) * s.geom().gridSize() + grid)
                                        * w.readAt(w.offset() + ((long) oc * cg + c) * s.geom().taps() + tap);
                    }
        });
        store(acc, dx);
    }

    /** dw[oc, c, tap] = Σ over the batch and outputs of dy · the input element the tap read; dbias = Σ dy. */
    static void backwardWeights(Conv3dSpec s, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        double[] acc = new double[Math.toIntExact(dw.numel())];
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        taps(s.geom(), (grid, tap, vol) -> {
            for (int n = 0; n < s.batch(); n++)
                for (int oc = 0; oc < s.outChannels(); oc++)
                    for (int c = 0; c < cg; c++) {
                        int ic = oc / kg * cg + c;
                        acc[(int) (((long) oc * cg + c) * s.geom().taps() + tap)] +=
                                dy.readAt(dy.offset() + ((long) n * s.outChannels() + oc) * s.geom().gridSize() + grid)
                                        * x.readAt(x.offset() + ((long) n * s.inChannels() + ic) * s.geom().volumeSize() + vol);
                    }
        });
        store(acc, dw);
        if (dbias != null) Conv3dBackward.channelSums(dy, s.batch(), s.outChannels(), s.geom().gridSize(), dbias);
    }

    /** dx[n, ic, i] = Σ over taps and output channels of dy at the output element input i scattered to · w. */
    static void transposeBackwardData(ConvTranspose3dSpec s, Tensor dy, Tensor w, Tensor dx) {
        double[] acc = new double[Math.toIntExact(dx.numel())];
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        VolumeGeom g = s.geom();
        taps(g, (grid, tap, vol) -> {
            for (int n = 0; n < s.batch(); n++)
                for (int ic = 0; ic < s.inChannels(); ic++)
                    for (int j = 0; j < kg; j++) {
                        int oc = ic / cg * kg + j;
                        acc[(int) (((long) n * s.inChannels() + ic) * g.gridSize() + grid)] +=
                                dy.readAt(dy.offset() + ((long) n * s.outChannels() + oc) * g.volumeSize() + vol)
                                        * w.readAt(w.offset() + ((long) ic * kg + j) * g.taps() + tap);
                    }
        });
        store(acc, dx);
    }

    /** dw[ic, j, tap] = Σ over the batch and inputs of x · dy at the output element the tap scattered to; dbias = Σ dy. */
    static void transposeBackwardWeights(ConvTranspose3dSpec s, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        double[] acc = new double[Math.toIntExact(dw.numel())];
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        VolumeGeom g = s.geom();
        taps(g, (grid, tap, vol) -> {
            for (int n = 0; n < s.batch(); n++)
                for (int ic = 0; ic < s.inChannels(); ic++)
                    for (int j = 0; j < kg; j++) {
                        int oc = ic / cg * kg + j;
                        acc[(int) (((long) ic * kg + j) * g.taps() + tap)] +=
                                x.readAt(x.offset() + ((long) n * s.inChannels() + ic) * g.gridSize() + grid)
                                        * dy.readAt(dy.offset() + ((long) n * s.outChannels() + oc) * g.volumeSize() + vol);
                    }
        });
        store(acc, dw);
        if (dbias != null) Conv3dBackward.channelSums(dy, s.batch(), s.outChannels(), g.volumeSize(), dbias);
    }

    /** Visits every (grid position, tap, volume position) whose tap lands inside the volume; positions are flat. */
    interface TapVisitor {
        void visit(long grid, int tap, long volume);
    }

    static void taps(VolumeGeom g, TapVisitor v) {
        int[] o = g.grid(), k = g.kernel(), in = g.volume();
        for (int gd = 0; gd < o[0]; gd++)
            for (int gh = 0; gh < o[1]; gh++)
                for (int gw = 0; gw < o[2]; gw++)
                    for (int td = 0; td < k[0]; td++)
                        for (int th = 0; th < k[1]; th++)
                            for (int tw = 0; tw < k[2]; tw++) {
                                int d = g.at(0, gd, td), h = g.at(1, gh, th), w = g.at(2, gw, tw);
                                if (d < 0 || d >= in[0] || h < 0 || h >= in[1] || w < 0 || w >= in[2]) continue;
                                v.visit(((long) gd * o[1] + gh) * o[2] + gw, (td * k[1] + th) * k[2] + tw, ((long) d * in[1] + h) * in[2] + w);
                            }
    }

    private static void store(double[] acc, Tensor t) {
        for (int i = 0; i < acc.length; i++) t.writeAt(t.offset() + i, acc[i]);
    }

    /** Flat index of (a, b, d, h, w) in a contiguous [*, bs, dims[0], dims[1], dims[2]] tensor. */
    static long index(int a, int b, int bs, int[] dims, int d, int h, int w) {
        return ((((long) a * bs + b) * dims[0] + d) * dims[1] + h) * dims[2] + w;
    }
}
