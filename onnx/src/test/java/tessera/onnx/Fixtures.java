package tessera.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/** Loads the committed fixtures of {@code tools/make_onnx_fixtures.py} from the test classpath. */
final class Fixtures {
    private Fixtures() {}

    static byte[] bytes(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/onnx/" + name)) {
            if (in == null) throw new IllegalStateException("fixture /onnx/" + name + " is missing");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tensor npy(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/onnx/" + name)) {
            if (in == null) throw new IllegalStateException("fixture /onnx/" + name + " is missing");
            return Npy.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** max |a - b| / (1 + |b|) over all elements. */
    static double maxRelError(Tensor a, Tensor b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        if (x.length != y.length) throw new AssertionError("element counts differ: " + x.length + " vs " + y.length);
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            double e = Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i]));
            if (!(e <= m)) m = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(m, e);
        }
        return m;
    }
}
