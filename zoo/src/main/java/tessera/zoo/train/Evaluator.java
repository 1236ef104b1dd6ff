package tessera.zoo.train;

import java.util.ArrayList;
import java.util.List;
import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.memory.Tensor;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.data.ImageDataset;

/**
 * Evaluates one model or an ensemble (the average of the members' softmax probabilities) on a dataset, in eval mode
 * and without recording a graph. Test-time augmentation averages over the given views of each batch.
 */
public final class Evaluator {
    private Evaluator() {}

    /** A view of a batch for test-time augmentation (identity, flip, shift, …); returns a new tensor in the scope. */
    public interface View {
        Tensor apply(Tensor batch);
    }

    public static Evaluation evaluate(Model model, ImageDataset data, int batch) {
        return evaluate(List.of(model), data, batch, List.of());
    }

    /** Probability-averaging ensemble of {@code models} over the identity view plus {@code views}. */
    public static Evaluation evaluate(List<Model> models, ImageDataset data, int batch, List<View> views) {
        int k = data.classes();
        long[][] confusion = new long[k][k];
        long top1 = 0, top5 = 0;
        double lossSum = 0;
        List<Boolean> wasTraining = new ArrayList<>();
        for (Model m : models) { wasTraining.add(m.isTraining()); m.eval(); }
        try (GradMode off = GradMode.off(); BatchLoader loader = new BatchLoader(data, batch, BatchLoader.Augmentation.NONE)) {
            loader.startEpoch(0, false);
            for (int b = 0; b < loader.batches(); b++) {
                try (Scope s = Scope.open()) {
                    Tensor[] xy = loader.batch(b);
                    Tensor probs = averageProbabilities(models, xy[0], views);
                    int n = xy[0].dim(0);
                    double[] p = probs.toDoubleArray();
                    for (int i = 0; i < n; i++) {
                        int label = (int) xy[1].getDouble(i);
                        int pred = 0;
                        int rank = 0;
                        double pl = p[i * k + label];
                        for (int c = 0; c < k; c++) {
                            if (p[i * k + c] > p[i * k + pred]) pred = c;
                            if (p[i * k + c] > pl) rank++;
                        }
                        confusion[label][pred]++;
                        if (pred == label) top1++;
                        if (rank < 5) top5++;
                        lossSum -= Math.log(Math.max(pl, 1e-30));
                    }
                }
            }
        } finally {
            for (int i = 0; i < models.size(); i++) if (wasTraining.get(i)) models.get(i).train();
        }
        double n = data.size();
        return new Evaluation(lossSum / n, top1 / n, top5 / n, confusion);
    }

    /** Softmax probabilities [N, K] averaged over models and views (allocated in the current scope). */
    public static Tensor averageProbabilities(List<Model> models, Tensor x, List<View> views) {
        Tensor sum = null;
        int count = 0;
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(x);
        for (View v : views) inputs.add(v.apply(x));
        for (Model m : models) {
            for (Tensor in : inputs) {
                Variable logits = m.forward(Variable.constant(in), new ForwardContext(0));
                Variable p = Ops.softmax(logits, 1);
                if (sum == null) {
                    sum = Scope.alloc(p.dtype(), p.shape());
                }
                tessera.kernels.eltwise.Binary.axpby(1f, p.value(), 1f, sum);
                count++;
            }
        }
        tessera.kernels.eltwise.Binary.axpby(0f, sum, 1f / count, sum);
        return sum;
    }

}
