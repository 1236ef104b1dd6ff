package tessera.kernels.volume;

import tessera.memory.Tensor;

/**
 * float64 reference 3-D pooling: every tap of every window, tested against the input bounds, as the
 * {@link Pool3dSpec} definition reads. The test oracle, and the path {@link Pool3d} runs for float64 tensors.
 */
final class Pool3dReference {
    private Pool3dReference() {}

    static void forward(Pool3dSpec s, Tensor x, Tensor y, Tensor indices) {
        int[] in = {x.dim(2), x.dim(3), x.dim(4)}, out = s.out(in), k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations();
        int planes = x.dim(0) * x.dim(1);
        long inVol = (long) in[0] * in[1] * in[2], o = 0;
        for (int pl = 0; pl < planes; pl++)
            for (int od = 0; od < out[0]; od++)
                for (int oh = 0; oh < out[1]; oh++)
                    for (int ow = 0; ow < out[2]; ow++, o++) {
                        int[] start = {od * st[0] - p[0], oh * st[1] - p[1], ow * st[2] - p[2]};
                        double sum = 0, best = Double.NEGATIVE_INFINITY;
                        long arg = -1, inside = 0, padded = 0;
                        for (int td = 0; td < k[0]; td++)
                            for (int th = 0; th < k[1]; th++)
                                for (int tw = 0; tw < k[2]; tw++) {
                                    int[] at = {start[0] + td * dl[0], start[1] + th * dl[1], start[2] + tw * dl[2]};
                                    boolean inPad = true, inX = true;
                                    for (int a = 0; a < 3; a++) {
                                        inX &= at[a] >= 0 && at[a] < in[a];
                                        inPad &= at[a] < in[a] + p[a + 3];
                                    }
                                    if (inPad) padded++;
                                    if (!inX) continue;
                                    inside++;
                                    long e = ((long) at[0] * in[1] + at[1]) * in[2] + at[2];
                                    double v = x.readAt(x.offset() + pl * inVol + e);
                                    sum += switch (s.type()) {
                                        case MAX -> 0;
                                        case AVG -> v;
                                        case L2 -> v * v;
                                    };
                                    if (arg < 0 || v > best || (Double.isNaN(v) && !Double.isNaN(best))) {
                                        best = v;
                                        arg = e;
                                    }
                                }
                        double r = switch (s.type()) {
                            case MAX -> best;
                            case AVG -> sum / (s.countIncludePad() ? padded : inside);
                            case L2 -> Math.sqrt(sum);
                        };
                        y.writeAt(y.offset() + o, r);
                        if (indices != null) indices.writeAt(indices.offset() + o, arg);
                    }
    }

    /** See {@link Pool3d#backward}: the window walk of {@link #forward}, scattering dy instead of gathering x. */
    static void backward(Pool3dSpec s, Tensor x, Tensor dy, Tensor dx) {
        int[] in = {x.dim(2), x.dim(3), x.dim(4)}, out = s.out(in), k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations();
        int planes = x.dim(0) * x.dim(1);
        long inVol = (long) in[0] * in[1] * in[2], o = 0;
        double[] acc = new double[Math.toIntExact(dx.numel())];
        java.util.List<Long> window = new java.util.ArrayList<>();
        for (int pl = 0; pl < planes; pl++)
            for (int od = 0; od < out[0]; od++)
                for (int oh = 0; oh < out[1]; oh++)
                    for (int ow = 0; ow < out[2]; ow++, o++) {
                        int[] start = {od * st[0] - p[0], oh * st[1] - p[1], ow * st[2] - p[2]};
                        window.clear();
                        long padded = 0;
                        for (int td = 0; td < k[0]; td++)
                            for (int th = 0; th < k[1]; th++)
                                for (int tw = 0; tw < k[2]; tw++) {
                                    int[] at = {start[0] + td * dl[0], start[1] + th * dl[1], start[2] + tw * dl[2]};
                                    boolean inPad = true, inX = true;
                                    for (int a = 0; a < 3; a++) {
                                        inX &= at[a] >= 0 && at[a] < in[a];
                                        inPad &= at[a] < in[a] + p[a + 3];
                                    }
                                    if (inPad) padded++;
                                    if (inX) window.add(pl * inVol + ((long) at[0] * in[1] + at[1]) * in[2] + at[2]);
                                }
                        double g = dy.readAt(dy.offset() + o);
                        switch (s.type()) {
                            case MAX -> {
                                long arg = -1;
                                double best = Double.NEGATIVE_INFINITY;
                                for (long e : window) {
                                    double v = x.readAt(x.offset() + e);
                                    if (arg < 0 || v > best || (Double.isNaN(v) && !Double.isNaN(best))) {
                                        best = v;
                                        arg = e;
                                    }
                                }
                                acc[(int) arg] += g;
                            }
                            case AVG -> {
                                double share = g / (s.countIncludePad() ? padded : window.size());
                                for (long e : window) acc[(int) e] += share;
                            }
                            case L2 -> {
                                double sumSq = 0;
                                for (long e : window) sumSq += x.readAt(x.offset() + e) * x.readAt(x.offset() + e);
                                if (sumSq == 0) continue; // d sqrt(Σx²)/dx is taken as 0 at the origin
                                double norm = Math.sqrt(sumSq);
                                for (long e : window) acc[(int) e] += g * x.readAt(x.offset() + e) / norm;
                            }
                        }
                    }
        for (int i = 0; i < acc.length; i++) dx.writeAt(dx.offset() + i, acc[i]);
    }
}
