package tessera.kernels.conv;

/**
 * Internal, unvalidated convolution geometry shared by the kernels. Unlike {@link ConvSpec} the output size
 * {@code p × q} is explicit and paddings may be negative (both arise when a transposed convolution is computed as
 * a forward convolution). Input pixel of output (oh, ow) and tap (r, s): {@code ih = oh·sh − pt + r·dh}.
 */
record ConvGeom(int n, int c, int h, int w, int k, int r, int s, int sh, int sw, int pt, int pl, int dh, int dw,
                int groups, int p, int q) {
    int cg() { return c / groups; }
    int kg() { return k / groups; }
    boolean isWinogradShape() { return r == 3 && s == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1; }
    boolean isPointwise() { return r == 1 && s == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && p == h && q == w; }
    long flops() { return 2L * n * k * cg() * r * s * p * q; }
}
