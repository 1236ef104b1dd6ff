package tessera.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.zoo.inspect.ModelSummary;
import tessera.zoo.models.Zoo;

/** Per-layer output shapes, parameters, MACs and receptive fields of a zoo model or a JSON spec. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Show each layer's output shape, parameters, multiply-accumulates and receptive field.")
public final class SummaryCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "a zoo model name (${COMPLETION-CANDIDATES}) or a JSON model spec file",
            completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--input", paramLabel = "C,H,W", split = ",", description = "per-sample input shape")
    int[] input;

    @Option(names = "--classes", defaultValue = "1000", description = "number of classes (zoo models; default ${DEFAULT-VALUE})")
    int classes;

    @Override
    public Integer call() throws Exception {
        ModelSpec spec = resolve(model, classes, input);
        try (Model m = Model.build(spec, DType.F32, 0)) {
            System.out.println("model " + spec.name() + ", input " + java.util.Arrays.toString(spec.input()));
            System.out.print(ModelSummary.of(m).format());
        }
        return 0;
    }

    /** A zoo name or a spec file; {@code input} overrides the spec's input shape. */
    static ModelSpec resolve(String model, int classes, int[] input) throws java.io.IOException {
        Path p = Path.of(model);
        if (model.endsWith(".json") || Files.isRegularFile(p)) {
            ModelSpec s = ModelSpec.read(p);
            return input == null ? s : new ModelSpec(s.name(), input, s.layers());
        }
        return Zoo.spec(model, classes, input);
    }

    /** Zoo names for help text. */
    static final class ModelNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return Zoo.DEFAULT_INPUT.keySet().iterator(); }
    }
}
