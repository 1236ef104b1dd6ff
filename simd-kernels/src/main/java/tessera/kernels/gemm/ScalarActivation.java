package tessera.kernels.gemm;

import tessera.kernels.ActivationFn;
import tessera.kernels.eltwise.Activations;

/** Scalar float activations for the GEMM epilogue's per-element path: the table's float64 reference, rounded. */
final class ScalarActivation {
    private ScalarActivation() {}

    static float apply(ActivationFn act, float x) { return (float) Activations.reference(act, x); }
}
