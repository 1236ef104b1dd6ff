package tessera.cli.bench;

import java.io.IOException;
import java.io.Writer;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.kernels.conv.ConvSpec;

/**
 * The {@code --compare-torch} column: PyTorch's GFLOP/s for every convolution and GEMM row, measured by
 * {@code tools/torch_kernels.py} with {@code python3} on this machine (same shapes and thread counts). Optional:
 * when Python or PyTorch is missing the column is left out with a message; PyTorch never enters the build.
 */
public final class TorchComparison {
    private TorchComparison() {}

    /** The script's input line for a row, or null when the row is neither a ConvBench nor a GemmBench row. */
    static String caseLine(JmhResultTable.Row r, ClassLoader benchLoader) {
        Map<String, String> p = r.params();
        if (r.isClass("GemmBench")) {
            String dims = p.containsKey("shape") ? p.get("shape").replace('x', ' ')
                    : (p.get("size") + " ").repeat(3).trim();
            boolean ta = r.method().equals("tn"), tb = r.method().equals("nt");
            return "gemm " + dims + " " + (ta ? 1 : 0) + " " + (tb ? 1 : 0) + " " + r.threads();
        }
        if (r.isClass("ConvBench")) {
            ConvSpec s = convSpec(r.className(), p.get("layer"), Integer.parseInt(p.getOrDefault("batch", "1")), benchLoader);
            if (s == null || s.padTop() != s.padBottom() || s.padLeft() != s.padRight() || s.padTop() != s.padLeft()
                    || s.strideH() != s.strideW() || s.groups() != 1 || s.dilationH() != 1 || s.dilationW() != 1) {
                return null;
            }
            return "conv " + s.batch() + " " + s.inChannels() + " " + s.inH() + " " + s.inW() + " " + s.outChannels() + " "
                    + s.kernelH() + " " + s.kernelW() + " " + s.strideH() + " " + s.padTop() + " " + r.threads();
        }
        return null;
    }

    /** {@code ConvBench.spec(layer, batch)} from the benchmark jar, or null. */
    private static ConvSpec convSpec(String cls, String layer, int batch, ClassLoader loader) {
        try {
            Method m = Class.forName(cls, true, loader).getMethod("spec", String.class, int.class);
            return (ConvSpec) m.invoke(null, layer, batch);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * The first of {@code candidates} (Python executables) that imports torch, or null. The default candidates are
     * {@code python3} on the PATH and the system's {@code /usr/bin/python3} (where distribution packages install torch).
     */
    public static String findPython(List<String> candidates) throws InterruptedException {
        for (String py : candidates) {
            try {
                Process p = new ProcessBuilder(py, "-c", "import torch").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() == 0) return py;
            } catch (IOException e) {
                // not installed: try the next
            }
        }
        return null;
    }

    /**
     * PyTorch GFLOP/s by row key; null (with the reason in {@code why[0]}) when the script fails.
     * Identical cases (e.g. the algorithms of one conv layer) are measured once.
     */
    public static Map<String, Double> measure(String python, Path script, JmhResultTable t, ClassLoader benchLoader,
            String[] why) throws InterruptedException {
        Map<String, List<String>> keysByCase = new LinkedHashMap<>();
        for (JmhResultTable.Row r : t.rows()) {
            String c = caseLine(r, benchLoader);
            if (c != null) keysByCase.computeIfAbsent(c, k -> new ArrayList<>()).add(r.key());
        }
        Map<String, Double> out = new HashMap<>();
        if (keysByCase.isEmpty()) return out;
        List<String> lines;
        try {
            Process p = new ProcessBuilder(python, script.toString()).redirectErrorStream(false).start();
            try (Writer w = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
                for (String c : keysByCase.keySet()) w.write(c + "\n");
            }
            lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                why[0] = python + " " + script.getFileName() + " failed: " + lastLine(err);
                return null;
            }
        } catch (IOException e) {
            why[0] = python + " could not run (" + e.getMessage() + ")";
            return null;
        }
        int i = 0;
        for (List<String> keys : keysByCase.values()) {
            double g = i < lines.size() ? parse(lines.get(i)) : Double.NaN;
            i++;
            for (String k : keys) out.put(k, g);
        }
        return out;
    }

    private static double parse(String line) {
        try {
            return Double.parseDouble(line.trim().split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String lastLine(String s) {
        String[] l = s.split("\\R");
        return l.length == 0 ? "" : l[l.length - 1];
    }
}
