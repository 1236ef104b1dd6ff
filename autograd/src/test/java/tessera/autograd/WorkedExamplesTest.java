package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;

/** Gradients of small worked examples checked against their analytic values. */
class WorkedExamplesTest {
    private static Variable scalar(double v) { return Variable.parameter(Tensor.of(new double[]{v}, 1)); }

    @Test
    void ylogxPlusSqrt() {
        // f(x, y) = y·ln x + sqrt(y·ln x);  u = y ln x
        // ∂f/∂x = (y/x)(1 + 1/(2√u)),  ∂f/∂y = ln x (1 + 1/(2√u))
        try (Scope s = Scope.open()) {
            Variable x = scalar(3), y = scalar(2);
            Variable u = Ops.mul(y, Ops.log(x));
            Variable f = Ops.add(u, Ops.sqrt(u));
            f.backward();
            double uu = 2 * Math.log(3);
            assertEquals(uu + Math.sqrt(uu), f.value().getDouble(0), 1e-12);
            assertEquals(2.0 / 3 * (1 + 1 / (2 * Math.sqrt(uu))), x.grad().getDouble(0), 1e-12);
            assertEquals(Math.log(3) * (1 + 1 / (2 * Math.sqrt(uu))), y.grad().getDouble(0), 1e-12);
        }
    }

    @Test
    void convolution3x3Input2x2Kernel() {
        // Y = X ⋆ W (valid cross-correlation): Y[i][j] = Σ_{a,b} X[i+a][j+b] W[a][b]
        // δW[a][b] = Σ_{i,j} δY[i][j] X[i+a][j+b];  δX[p][q] = Σ_{i,j} δY[i][j] W[p−i][q−j] (full convolution)
        double[] xv = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        double[] wv = {1, -1, 2, 0.5};
        double[] gy = {0.1, -0.2, 0.3, 0.4};
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(xv, 1, 1, 3, 3));
            Variable w = Variable.parameter(Tensor.of(wv, 1, 1, 2, 2));
            Variable y = Ops.conv2d(x, w, null, ConvArgs.of(1, 0));
            double[] expectY = new double[4];
            double[] expectDw = new double[4];
            double[] expectDx = new double[9];
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    for (int a = 0; a < 2; a++) {
                        for (int b = 0; b < 2; b++) {
                            expectY[i * 2 + j] += xv[(i + a) * 3 + j + b] * wv[a * 2 + b];
                            expectDw[a * 2 + b] += gy[i * 2 + j] * xv[(i + a) * 3 + j + b];
                            expectDx[(i + a) * 3 + j + b] += gy[i * 2 + j] * wv[a * 2 + b];
                        }
                    }
                }
            }
            assertArrayEquals(expectY, y.value().toDoubleArray(), 1e-12);
            // the textbook values: Y = [[1·1−2+8+2.5, ...]]
            assertEquals(1 - 2 + 2 * 4 + 0.5 * 5, y.value().getDouble(0, 0, 0, 0), 1e-12);
            y.backward(Tensor.of(gy, 1, 1, 2, 2));
            assertArrayEquals(expectDw, w.grad().toDoubleArray(), 1e-12);
            assertArrayEquals(expectDx, x.grad().toDoubleArray(), 1e-12);
        }
    }

    @Test
    void maxPassesGradientOnlyToLargestInput() {
        try (Scope s = Scope.open()) {
            Variable a = Variable.parameter(Tensor.of(new double[]{1, 5, -2}, 3));
            Variable b = Variable.parameter(Tensor.of(new double[]{4, 2, -3}, 3));
            Variable m = Ops.maximum(a, b);
            m.backward(Tensor.of(new double[]{10, 20, 30}, 3));
            assertArrayEquals(new double[]{0, 20, 30}, a.grad().toDoubleArray());
            assertArrayEquals(new double[]{10, 0, 0}, b.grad().toDoubleArray());
        }
    }

    @Test
    void matmulGradients() {
        // y = xW:  ∂L/∂x = (∂L/∂y) Wᵀ,  ∂L/∂W = xᵀ (∂L/∂y)
        double[] xv = {1, 2, 3, 4, 5, 6};           // 2×3
        double[] wv = {1, 0, -1, 2, 0.5, 3};         // 3×2
        double[] g = {1, -1, 2, 0.5};                // 2×2
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(xv, 2, 3));
            Variable w = Variable.parameter(Tensor.of(wv, 3, 2));
            Variable y = Ops.matmul(x, w);
            assertArrayEquals(new double[]{1 - 2 + 1.5, 0 + 4 + 9, 4 - 5 + 3, 0 + 10 + 18}, y.value().toDoubleArray(), 1e-12);
            y.backward(Tensor.of(g, 2, 2));
            double[] dx = new double[6], dw = new double[6];
            for (int i = 0; i < 2; i++) for (int k = 0; k < 3; k++) for (int j = 0; j < 2; j++) {
                dx[i * 3 + k] += g[i * 2 + j] * wv[k * 2 + j];
                dw[k * 2 + j] += xv[i * 3 + k] * g[i * 2 + j];
            }
            assertArrayEquals(dx, x.grad().toDoubleArray(), 1e-12);
            assertArrayEquals(dw, w.grad().toDoubleArray(), 1e-12);
        }
    }

    @Test
    void sharedInputsAccumulate() {
        // f = x·x + x  → df/dx = 2x + 1, with x used three times
        try (Scope s = Scope.open()) {
            Variable x = scalar(1.5);
            Variable f = Ops.add(Ops.mul(x, x), x);
            f.backward();
            assertEquals(4.0, x.grad().getDouble(0), 1e-12);
            // gradients accumulate across backward passes until zeroGrad
            Variable f2 = Ops.add(Ops.mul(x, x), x);
            f2.backward();
            assertEquals(8.0, x.grad().getDouble(0), 1e-12);
            x.zeroGrad();
            assertEquals(0.0, x.grad().getDouble(0));
        }
    }

    @Test
    void noGradScopeRecordsNothingAndDetachCuts() {
        try (Scope s = Scope.open()) {
            Variable x = scalar(2);
            try (GradMode off = GradMode.off()) {
                Variable y = Ops.mul(x, x);
                assertEquals(null, y.producer());
                assertThrows(IllegalStateException.class, y::backward);
            }
            Variable d = Ops.mul(x.detach(), x);
            d.backward();
            assertEquals(2.0, x.grad().getDouble(0), 1e-12);   // only the non-detached factor
        }
    }

    @Test
    void backwardTwiceThroughReleasedNodeIsAClearError() {
        try (Scope s = Scope.open()) {
            Variable x = scalar(2);
            Variable y = Ops.exp(x);
            y.backward();
            IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
            assertEquals(true, e.getMessage().contains("second time"));
        }
    }

    @Test
    void opsWithoutAScopeExplainWhatToDo() {
        Variable x = Variable.constant(Tensor.of(new double[]{1}, 1));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ops.exp(x));
        assertEquals(true, e.getMessage().contains("Scope.open()"));
    }

    @Test
    void tapSeesTheSummedGradientOfEveryConsumerAndPassesItOn() {
        // y = tap(u), u = 2x, L = Σ (y·y + 3y): ∂L/∂y = 2y + 3 reaches the sink, ∂L/∂x = 2·(2y + 3)
        double[] xv = {1, -2, 0.5};
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(xv, 3));
            double[][] seen = new double[1][];
            Variable y = Ops.tap(Ops.scale(x, 2), g -> seen[0] = g.toDoubleArray());
            Variable l = Ops.sum(Ops.add(Ops.mul(y, y), Ops.scale(y, 3)));
            l.backward();
            for (int i = 0; i < 3; i++) {
                double yi = 2 * xv[i];
                assertEquals(2 * yi + 3, seen[0][i], 1e-12);
                assertEquals(2 * (2 * yi + 3), x.grad().getDouble(i), 1e-12);
            }
        }
    }
}
