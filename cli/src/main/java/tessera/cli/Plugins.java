package tessera.cli;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tessera.layers.LayerRegistry;

/** The layer registry including plugin jars given with {@code --plugin}. */
final class Plugins {
    private Plugins() {}

    static LayerRegistry registry(List<Path> jars) {
        if (jars == null || jars.isEmpty()) return LayerRegistry.getDefault();
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            Path p = jars.get(i);
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("--plugin " + p + ": no such file");
            try {
                urls[i] = p.toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("--plugin " + p + ": " + e.getMessage());
            }
        }
        ClassLoader loader = new URLClassLoader(urls, Plugins.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        return LayerRegistry.load(loader);
    }
}
