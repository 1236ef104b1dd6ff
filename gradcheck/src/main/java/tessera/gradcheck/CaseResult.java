package tessera.gradcheck;

/**
 * The outcome of one gradient check of one {@link LayerCase}.
 *
 * @param passed         every checked coordinate within tolerance (and no error)
 * @param tensor         where the worst (or first failing) coordinate is: {@code "input"} or a parameter name; null when
 *                       the check could not run
 * @param index          flat (row-major) index of that coordinate
 * @param coordinate     its multi-index in the tensor's shape
 * @param analytic       the backpropagated derivative there
 * @param numeric        the central finite difference there
 * @param worstRelError  max over checked coordinates of |analytic − numeric| / max(|numeric|, atol/rtol)
 * @param checked        coordinates compared
 * @param skippedKinks   coordinates skipped because the one-sided differences disagreed (a kink in the interval)
 * @param message        "ok", or what went wrong, in words
 */
public record CaseResult(boolean passed, String tensor, int index, int[] coordinate, double analytic, double numeric,
                         double worstRelError, int checked, int skippedKinks, String message) {

    static CaseResult error(String message) {
        return new CaseResult(false, null, -1, new int[0], Double.NaN, Double.NaN, Double.NaN, 0, 0, message);
    }

    /** "parameter weight[0, 1, 2, 0]" or "input[0, 2]"; "-" when no coordinate is known. */
    public String where() {
        if (tensor == null) return "-";
        StringBuilder b = new StringBuilder(tensor.equals("input") ? "input" : "parameter " + tensor).append('[');
        for (int i = 0; i < coordinate.length; i++) b.append(i == 0 ? "" : ", ").append(coordinate[i]);
        return b.append("] (flat index ").append(index).append(')').toString();
    }
}
