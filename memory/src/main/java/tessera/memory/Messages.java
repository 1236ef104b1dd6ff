package tessera.memory;

/**
 * Error messages as one bounded line: control characters (C0, DEL, C1, and the Unicode line and paragraph
 * separators) are escaped (backslash n, r, t, else backslash-x NN or backslash-u NNNN), and text past
 * {@link #MAX_CHARS} characters is cut with a note of how much was left out. Every Tessera exception that can
 * quote bytes of an input file passes its message through {@link #oneLine}, and so does the CLI.
 */
public final class Messages {
    /** Longest message kept, in characters (before the "… (N more characters)" note). */
    public static final int MAX_CHARS = 1000;

    private Messages() {}

    /** {@code s} on one line, control characters escaped, at most about {@link #MAX_CHARS} characters; null stays null. */
    public static String oneLine(String s) {
        if (s == null) return null;
        if (isOneLine(s)) return s;
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_CHARS) + 40);
        int i = 0;
        for (; i < s.length() && b.length() < MAX_CHARS; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) b.append(String.format("\\x%02x", (int) c));
                    else if (c == '\u2028' || c == '\u2029' || c == '\u0085') b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        if (i < s.length()) b.append("… (").append(s.length() - i).append(" more characters)");
        return b.toString();
    }

    /** True if {@code s} is non-null, at most {@link #MAX_CHARS} + 40 characters and free of control characters. */
    public static boolean isOneLine(String s) {
        if (s == null || s.length() > MAX_CHARS + 40) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == '\u2028' || c == '\u2029') return false;
        }
        return true;
    }
}
