package tessera.fuzz;

import java.util.Arrays;
import java.util.Random;

/** Format-blind mutations: bit flips, interesting byte values, truncation, insertion, deletion and chunk copies. */
final class ByteMutations {
    private static final byte[] INTERESTING = {0, 1, -1, 0x7f, (byte) 0x80, 0x10, 0x20, 0x40, (byte) 0xfe, '\n', '\r', 0x1b, '{', '"', '\''};

    private ByteMutations() {}

    static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in;
        int n = 1 + rnd.nextInt(4);
        for (int k = 0; k < n; k++) b = once(b, rnd);
        return b;
    }

    private static byte[] once(byte[] b, Random rnd) {
        if (b.length == 0) return new byte[] {(byte) rnd.nextInt(256)};
        int at = headBiased(b.length, rnd);
        switch (rnd.nextInt(7)) {
            case 0 -> { // bit flip
                byte[] c = b.clone();
                c[at] ^= (byte) (1 << rnd.nextInt(8));
                return c;
            }
            case 1 -> { // interesting byte
                byte[] c = b.clone();
                c[at] = INTERESTING[rnd.nextInt(INTERESTING.length)];
                return c;
            }
            case 2 -> { // truncation
                return Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 3 -> { // insertion of random bytes
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 64);
                byte[] c = new byte[b.length + len];
                System.arraycopy(b, 0, c, 0, at);
                for (int i = 0; i < len; i++) c[at + i] = (byte) rnd.nextInt(256);
                System.arraycopy(b, at, c, at + len, b.length - at);
                return c;
            }
            case 4 -> { // deletion of a range
                int len = 1 + rnd.nextInt(Math.min(64, b.length - at));
                byte[] c = new byte[b.length - len];
                System.arraycopy(b, 0, c, 0, at);
                System.arraycopy(b, at + len, c, at, b.length - at - len);
                return c;
            }
            case 5 -> { // duplicate a chunk in place
                int len = 1 + rnd.nextInt(Math.min(128, b.length - at));
                byte[] c = new byte[b.length + len];
                System.arraycopy(b, 0, c, 0, at + len);
                System.arraycopy(b, at, c, at + len, b.length - at);
                return c;
            }
            default -> { // random little-endian int written over 4 bytes
                byte[] c = b.clone();
                int v = switch (rnd.nextInt(4)) {
                    case 0 -> Integer.MAX_VALUE;
                    case 1 -> -1;
                    case 2 -> 1 << rnd.nextInt(31);
                    default -> rnd.nextInt();
                };
                for (int i = 0; i < 4 && at + i < c.length; i++) c[at + i] = (byte) (v >>> (8 * i));
                return c;
            }
        }
    }

    /** Positions near the start (headers) are chosen more often than positions in bulk data. */
    private static int headBiased(int len, Random rnd) {
        if (rnd.nextBoolean()) return rnd.nextInt(Math.min(len, 256));
        return rnd.nextInt(len);
    }

    /** Interesting integers: 0, ±1, powers of two around 2^31, 2^40, extremes. */
    static long interestingLong(Random rnd) {
        long[] v = {0, 1, -1, 2, 3, 7, 255, 256, 65535, 1L << 24, (1L << 31) - 1, 1L << 31, 1L << 32, (1L << 32) - 1, 1L << 40,
                1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MIN_VALUE, -(1L << 40)};
        return v[rnd.nextInt(v.length)];
    }
}
