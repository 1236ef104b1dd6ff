package tessera.layers.builtin;

import java.util.List;
import tessera.layers.ArgSpec;
import tessera.layers.LayerProvider;

/** A provider whose name, description and schema are fixed at construction. */
abstract class BaseProvider implements LayerProvider {
    private final String name;
    private final String description;
    private final List<ArgSpec> arguments;

    BaseProvider(String name, String description, ArgSpec... arguments) {
        this.name = name;
        this.description = description;
        this.arguments = List.of(arguments);
    }

    @Override public String name() { return name; }
    @Override public String description() { return description; }
    @Override public List<ArgSpec> arguments() { return arguments; }
}
