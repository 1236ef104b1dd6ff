package tessera.properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.LayerRegistry;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.properties.plugins.ScaledTanhLayer;

/**
 * The correct test plugin {@code ScaledTanh} is a third-party layer: listed only in this module's
 * {@code META-INF/services/tessera.layers.LayerProvider}, found by the ServiceLoader, usable by name in a JSON model
 * spec, and trainable (its scale receives a gradient).
 */
class PluginLayerTest {
    @Test
    void pluginIsFoundByServiceLoaderWithNoLibraryChange() {
        var p = LayerRegistry.getDefault().provider("ScaledTanh");
        assertEquals(ScaledTanhLayer.Provider.class, p.getClass());
        assertTrue(p.gradientCheckable());
    }

    @Test
    void pluginIsUsableFromAJsonModelSpec() {
        String json = """
                { "name": "plugin-demo", "input": [1, 6, 6],
                  "layers": [
                    {"type": "Conv2d", "out_channels": 2, "kernel_size": 3},
                    {"type": "ScaledTanh", "scale": 1.5},
                    {"type": "Flatten"},
                    {"type": "Linear", "out_features": 3} ] }
                """;
        ModelSpec spec = ModelSpec.parse(json);
        try (Model model = Model.build(spec, DType.F32, 42); Scope s = Scope.open()) {
            assertArrayEquals(new int[]{3}, model.outputShape());
            assertNotNull(model.parameters().get("1.scale"), "parameters: " + model.parameters().keySet());
            assertEquals(1.5, model.parameters().get("1.scale").value().getDouble(0), 0);
            Tensor x = Scope.alloc(DType.F32, 2, 1, 6, 6);
            x.fill(0.5);
            Variable y = model.forward(Variable.constant(x));
            assertArrayEquals(new int[]{2, 3}, y.shape());
            Ops.sum(y).backward();
            Tensor g = model.parameters().get("1.scale").grad();
            assertNotNull(g, "the plugin's parameter receives a gradient");
            assertTrue(Math.abs(g.getDouble(0)) > 0);
            model.zeroGrad();
        }
    }
}
