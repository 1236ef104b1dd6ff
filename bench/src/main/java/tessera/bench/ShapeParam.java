package tessera.bench;

/** Parsing of JMH shape parameters such as {@code "16x64x56x56"} or {@code "64x3136x576"}. */
final class ShapeParam {
    private ShapeParam() {}

    /** The integers of the shape, in order. */
    static int[] dims(String shape) {
        String[] p = shape.split("x");
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) d[i] = Integer.parseInt(p[i]);
        return d;
    }
}
