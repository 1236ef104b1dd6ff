package tessera.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;

class RegistryAndSpecTest {
    static final Set<String> BUILT_INS = Set.of("Conv2d", "ConvTranspose2d", "Linear", "Flatten", "MaxPool2d", "AvgPool2d",
            "LPPool2d", "AdaptiveAvgPool2d", "GlobalAvgPool", "GlobalMaxPool", "MaxUnpool2d", "BatchNorm1d", "BatchNorm2d",
            "Dropout", "LocalResponseNorm", "ReLU", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "SiLU", "Swish", "Mish",
            "Softplus", "Clamp", "Hardsigmoid", "Hardswish", "SELU", "Maxout", "Softmax", "LogSoftmax", "ZeroPad2d", "Sequential", "Residual", "Concat", "SqueezeExcitation");

    @Test
    void everyBuiltInIsDiscovered() {
        Set<String> names = LayerRegistry.getDefault().providers().stream().map(LayerProvider::name).collect(Collectors.toSet());
        assertTrue(names.containsAll(BUILT_INS), "missing: " + BUILT_INS.stream().filter(n -> !names.contains(n)).toList());
    }

    @Test
    void parameterCountOfTenFiveByFiveFiltersOverThreeChannels() {
        ModelSpec spec = ModelSpec.parse("{\"input\": [3, 32, 32], \"layers\": [{\"type\": \"Conv2d\", \"out_channels\": 10, \"kernel_size\": 5}]}");
        try (Model m = Model.build(spec, DType.F32, 1)) {
            assertEquals(760, m.parameterCount());           // 10·(5·5·3) + 10
            assertArrayEquals(new int[]{10, 28, 28}, m.outputShape()); // (32 − 5 + 0)/1 + 1
        }
    }

    @Test
    void unknownLayerSuggestsClosestNames() {
        SpecException e = assertThrows(SpecException.class, () -> Model.build(
                ModelSpec.parse("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"Conv2D\", \"out_channels\": 2, \"kernel_size\": 3}, {\"type\": \"Relu6\"}]}"),
                DType.F32, 1));
        assertTrue(e.getMessage().contains("Relu6") && e.getMessage().contains("'ReLU'"), e.getMessage());
    }

    @Test
    void missingUnknownAndIllTypedArgumentsAreNamed() {
        SpecException missing = assertThrows(SpecException.class, () -> build("{\"type\": \"Conv2d\", \"kernel_size\": 3}"));
        assertTrue(missing.getMessage().contains("out_channels") && missing.getMessage().contains("missing"), missing.getMessage());
        SpecException unknown = assertThrows(SpecException.class, () -> build("{\"type\": \"Conv2d\", \"out_channels\": 2, \"kernel_size\": 3, \"strides\": 2}"));
        assertTrue(unknown.getMessage().contains("strides") && unknown.getMessage().contains("'stride'"), unknown.getMessage());
        SpecException typed = assertThrows(SpecException.class, () -> build("{\"type\": \"Conv2d\", \"out_channels\": \"two\", \"kernel_size\": 3}"));
        assertTrue(typed.getMessage().contains("out_channels") && typed.getMessage().contains("whole number"), typed.getMessage());
        SpecException range = assertThrows(SpecException.class, () -> build("{\"type\": \"Dropout\", \"p\": 1.5}"));
        assertTrue(range.getMessage().contains("'p'") && range.getMessage().contains("1.5"), range.getMessage());
    }

    @Test
    void incompatibleShapesReportPositionNameAndBothShapes() {
        SpecException e = assertThrows(SpecException.class, () -> Model.build(ModelSpec.parse("""
                {"input": [1, 28, 28], "layers": [
                  {"type": "Conv2d", "out_channels": 6, "kernel_size": 5},
                  {"type": "Flatten"},
                  {"type": "Linear", "in_features": 100, "out_features": 10}]}"""), DType.F32, 1));
        assertTrue(e.getMessage().contains("layer 2") && e.getMessage().contains("Linear")
                && e.getMessage().contains("[3456]") && e.getMessage().contains("[100]"), e.getMessage());
    }

    @Test
    void specRoundTripsThroughJson() {
        ModelSpec spec = ModelSpec.parse("""
                {"name": "tiny", "input": [3, 8, 8], "layers": [
                  {"type": "Residual", "body": [{"type": "Conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}], "activation": "relu"},
                  {"type": "Concat", "branches": [[{"type": "Conv2d", "out_channels": 2, "kernel_size": 1}], {"type": "MaxPool2d", "kernel_size": 3, "stride": 1, "padding": 1}]},
                  {"type": "GlobalAvgPool"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 4}]}""");
        ModelSpec again = ModelSpec.parse(spec.toJson());
        assertEquals(spec.toJson(), again.toJson());
        try (Model a = Model.build(spec, DType.F32, 3); Model b = Model.build(again, DType.F32, 3)) {
            assertArrayEquals(new int[]{4}, a.outputShape());
            assertEquals(a.parameterCount(), b.parameterCount());
            assertEquals(List.copyOf(a.parameters().keySet()), List.copyOf(b.parameters().keySet()));
        }
    }

    @Test
    void malformedJsonNamesLineAndColumn() {
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.parse("{\"input\": [1, 2, 2],\n \"layers\": [ {\"type\": } ]}"));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    private static Model build(String layer) {
        return Model.build(ModelSpec.parse("{\"input\": [1, 8, 8], \"layers\": [" + layer + "]}"), DType.F32, 1);
    }
}
