package tessera.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.layers.ArgSpec;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;

/** Lists every registered layer with its arguments. */
@Command(name = "layers", mixinStandardHelpOptions = true,
        description = "List every registered layer (built-in and plugins on the classpath) with its arguments.")
public final class LayersCommand implements Runnable {
    @Option(names = "--plugin", paramLabel = "JAR", description = "add a plugin jar (repeatable)")
    List<Path> plugins;

    @Override
    public void run() {
        LayerRegistry registry = Plugins.registry(plugins);
        List<LayerProvider> all = registry.providers();
        System.out.println(all.size() + " layers registered:");
        for (LayerProvider p : all) {
            String origin = p.getClass().getName().startsWith("tessera.layers.builtin.") ? "" : "   [plugin: " + p.getClass().getName() + "]";
            System.out.println();
            System.out.println(p.name() + " — " + p.description() + origin);
            for (ArgSpec a : p.arguments()) System.out.println("    " + a.describe());
        }
    }
}
