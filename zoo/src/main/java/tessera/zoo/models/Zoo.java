package tessera.zoo.models;

import static tessera.zoo.models.Specs.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tessera.layers.LayerSpec;
import tessera.layers.ModelSpec;
import tessera.layers.SpecException;

/**
 * The classic CNN architectures as model specs, built in Java. Each takes the number of classes and the per-sample
 * input shape [C, H, W]. Layer choices follow torchvision where it has the model (so parameter counts match its
 * published figures) and the original papers otherwise; every difference is stated in the method's javadoc.
 */
public final class Zoo {
    private Zoo() {}

    /** Names accepted by {@link #spec(String, int, int[])}, with their default input shapes. */
    public static final Map<String, int[]> DEFAULT_INPUT = new TreeMap<>(Map.ofEntries(
            Map.entry("lenet5", new int[]{1, 28, 28}),
            Map.entry("alexnet", new int[]{3, 224, 224}), Map.entry("alexnet-cifar", new int[]{3, 32, 32}),
            Map.entry("vgg11", new int[]{3, 224, 224}), Map.entry("vgg13", new int[]{3, 224, 224}),
            Map.entry("vgg16", new int[]{3, 224, 224}), Map.entry("vgg19", new int[]{3, 224, 224}),
            Map.entry("vgg11-bn", new int[]{3, 224, 224}), Map.entry("vgg13-bn", new int[]{3, 224, 224}),
            Map.entry("vgg16-bn", new int[]{3, 224, 224}), Map.entry("vgg19-bn", new int[]{3, 224, 224}),
            Map.entry("vgg-cifar", new int[]{3, 32, 32}),
            Map.entry("nin-cifar", new int[]{3, 32, 32}),
            Map.entry("googlenet", new int[]{3, 224, 224}),
            Map.entry("resnet18", new int[]{3, 224, 224}), Map.entry("resnet34", new int[]{3, 224, 224}),
            Map.entry("resnet50", new int[]{3, 224, 224}), Map.entry("resnet101", new int[]{3, 224, 224}),
            Map.entry("resnet152", new int[]{3, 224, 224}),
            Map.entry("resnet50-v1", new int[]{3, 224, 224}), Map.entry("resnet18-v2", new int[]{3, 224, 224}),
            Map.entry("resnet50-v2", new int[]{3, 224, 224}),
            Map.entry("resnext50-32x4d", new int[]{3, 224, 224}), Map.entry("se-resnet50", new int[]{3, 224, 224})));

    /** The architecture {@code name} (see {@link #DEFAULT_INPUT}); input null = its default. */
    public static ModelSpec spec(String name, int numClasses, int[] input) {
        String n = name.toLowerCase(Locale.ROOT);
        int[] in = input != null ? input : DEFAULT_INPUT.get(n);
        if (in == null) {
            throw new SpecException("unknown model '" + name + "'; known: " + String.join(", ", DEFAULT_INPUT.keySet())
                    + " (or a path to a JSON model spec)");
        }
        return switch (n) {
            case "lenet5" -> lenet5(numClasses, in);
            case "alexnet" -> alexnet(numClasses, in);
            case "alexnet-cifar" -> alexnetCifar(numClasses, in);
            case "vgg11", "vgg13", "vgg16", "vgg19" -> vgg(Integer.parseInt(n.substring(3)), false, numClasses, in);
            case "vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn" -> vgg(Integer.parseInt(n.substring(3, 5)), true, numClasses, in);
            case "vgg-cifar" -> vggCifar(numClasses, in);
            case "nin-cifar" -> ninCifar(numClasses, in);
            case "googlenet" -> googlenet(numClasses, in);
            case "resnet18" -> resnet(18, ResNetVariant.V1_5, numClasses, in);
            case "resnet34" -> resnet(34, ResNetVariant.V1_5, numClasses, in);
            case "resnet50" -> resnet(50, ResNetVariant.V1_5, numClasses, in);
            case "resnet101" -> resnet(101, ResNetVariant.V1_5, numClasses, in);
            case "resnet152" -> resnet(152, ResNetVariant.V1_5, numClasses, in);
            case "resnet50-v1" -> resnet(50, ResNetVariant.V1, numClasses, in);
            case "resnet18-v2" -> resnet(18, ResNetVariant.V2, numClasses, in);
            case "resnet50-v2" -> resnet(50, ResNetVariant.V2, numClasses, in);
            case "resnext50-32x4d" -> resnext50(numClasses, in);
            case "se-resnet50" -> seResnet50(numClasses, in);
            default -> throw new SpecException("unknown model '" + name + "'");
        };
    }

    /** LeNet-5, modern form: ReLU, max-pool, 28×28 input padded by 2 in the first conv. 61,706 parameters for 10 classes. */
    public static ModelSpec lenet5(int numClasses, int[] in) {
        return new ModelSpec("lenet5", in, List.of(
                conv(6, 5, 1, 2), relu(), maxPool(2, 2),
                conv(16, 5, 1, 0), relu(), maxPool(2, 2),
                flatten(), linear(120), relu(), linear(84), relu(), linear(numClasses)));
    }

    /** LeNet-5 with batch norm after each convolution and hidden linear layer (the demo's recipe). */
    public static ModelSpec lenet5Bn(int numClasses, int[] in) {
        return new ModelSpec("lenet5-bn", in, List.of(
                conv(6, 5, 1, 2, false), bn(), relu(), maxPool(2, 2),
                conv(16, 5, 1, 0, false), bn(), relu(), maxPool(2, 2),
                flatten(), linear(120), bn1d(), relu(), linear(84), bn1d(), relu(), linear(numClasses)));
    }

    /** AlexNet, single tower as torchvision (64-192-384-256-256 channels, no LRN); 61,100,840 parameters at 224. */
    public static ModelSpec alexnet(int numClasses, int[] in) {
        List<LayerSpec> l = new ArrayList<>(List.of(
                conv(64, 11, 4, 2), relu(), maxPool(3, 2),
                conv(192, 5, 1, 2), relu(), maxPool(3, 2),
                conv(384, 3, 1, 1), relu(), conv(256, 3, 1, 1), relu(), conv(256, 3, 1, 1), relu(), maxPool(3, 2),
                flatten(), dropout(0.5), linear(4096), relu(), dropout(0.5), linear(4096), relu(), linear(numClasses)));
        return new ModelSpec("alexnet", in, l);
    }

    /** AlexNet for CIFAR-10 (32×32): 5×5 convs, 3×3/2 pools, no LRN (the cuda-convnet layout without its LRN). */
    public static ModelSpec alexnetCifar(int numClasses, int[] in) {
        return new ModelSpec("alexnet-cifar", in, List.of(
                conv(64, 5, 1, 2), relu(), maxPool(3, 2, 0, true),
                conv(64, 5, 1, 2), relu(), maxPool(3, 2, 0, true),
                conv(128, 3, 1, 1), relu(), conv(128, 3, 1, 1), relu(), conv(128, 3, 1, 1), relu(), maxPool(3, 2, 0, true),
                flatten(), linear(384), relu(), linear(192), relu(), linear(numClasses)));
    }

    private static final Map<Integer, int[][]> VGG = Map.of(
            11, new int[][]{{64}, {128}, {256, 256}, {512, 512}, {512, 512}},
            13, new int[][]{{64, 64}, {128, 128}, {256, 256}, {512, 512}, {512, 512}},
            16, new int[][]{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}},
            19, new int[][]{{64, 64}, {128, 128}, {256, 256, 256, 256}, {512, 512, 512, 512}, {512, 512, 512, 512}});

    /** VGG-11/13/16/19 (configurations A, B, D, E) as torchvision, with or without batch norm. VGG-19: 143,667,240. */
    public static ModelSpec vgg(int depth, boolean batchNorm, int numClasses, int[] in) {
        int[][] cfg = VGG.get(depth);
        if (cfg == null) throw new SpecException("VGG depth " + depth + " is not one of 11, 13, 16, 19");
        List<LayerSpec> l = new ArrayList<>();
        for (int[] stage : cfg) {
            for (int c : stage) {
                l.add(conv(c, 3, 1, 1));
                if (batchNorm) l.add(bn());
                l.add(relu());
            }
            l.add(maxPool(2, 2));
        }
        l.addAll(List.of(flatten(), linear(4096), relu(), dropout(0.5), linear(4096), relu(), dropout(0.5), linear(numClasses)));
        return new ModelSpec("vgg" + depth + (batchNorm ? "-bn" : ""), in, l);
    }

    /** The 13-layer VGG for CIFAR-10 (VGG-13 convolutions with batch norm, one 512→classes linear head). */
    public static ModelSpec vggCifar(int numClasses, int[] in) {
        List<LayerSpec> l = new ArrayList<>();
        for (int[] stage : VGG.get(13)) {
            for (int c : stage) l.addAll(List.of(conv(c, 3, 1, 1), bn(), relu()));
            l.add(maxPool(2, 2));
        }
        l.addAll(List.of(flatten(), linear(numClasses)));
        return new ModelSpec("vgg-cifar", in, l);
    }

    /** Network in Network for CIFAR-10 (Lin et al.): mlpconv blocks of 1×1 convs, max-pool 3/2 ceil_mode, global average pooling. */
    public static ModelSpec ninCifar(int numClasses, int[] in) {
        return new ModelSpec("nin-cifar", in, List.of(
                conv(192, 5, 1, 2), relu(), conv(160, 1, 1, 0), relu(), conv(96, 1, 1, 0), relu(),
                maxPool(3, 2, 0, true), dropout(0.5),
                conv(192, 5, 1, 2), relu(), conv(192, 1, 1, 0), relu(), conv(192, 1, 1, 0), relu(),
                LayerSpec.of("AvgPool2d", "kernel_size", 3, "stride", 2, "ceil_mode", true), dropout(0.5),
                conv(192, 3, 1, 1), relu(), conv(192, 1, 1, 0), relu(), conv(numClasses, 1, 1, 0), relu(),
                gap(), flatten()));
    }

    private static List<LayerSpec> convBnRelu(int out, int k, int stride, int pad) {
        return List.of(conv(out, k, stride, pad, false), bn(), relu());
    }

    private static LayerSpec inception(int c1, int c3r, int c3, int c5r, int c5, int pool) {
        // torchvision's GoogLeNet uses 3×3 (not 5×5) convolutions in the "5×5" branch; so do we, to match its 6,624,904 parameters.
        return concat(
                seq(convBnRelu(c1, 1, 1, 0)),
                seq(concatLists(convBnRelu(c3r, 1, 1, 0), convBnRelu(c3, 3, 1, 1))),
                seq(concatLists(convBnRelu(c5r, 1, 1, 0), convBnRelu(c5, 3, 1, 1))),
                seq(concatLists(List.of(maxPool(3, 1, 1, true)), convBnRelu(pool, 1, 1, 0))));
    }

    /** GoogLeNet (Inception v1) as torchvision (batch-normed convolutions, no auxiliary classifiers): 6,624,904 parameters. */
    public static ModelSpec googlenet(int numClasses, int[] in) {
        List<LayerSpec> l = new ArrayList<>();
        l.addAll(convBnRelu(64, 7, 2, 3));
        l.add(maxPool(3, 2, 0, true));
        l.addAll(convBnRelu(64, 1, 1, 0));
        l.addAll(convBnRelu(192, 3, 1, 1));
        l.add(maxPool(3, 2, 0, true));
        l.add(inception(64, 96, 128, 16, 32, 32));
        l.add(inception(128, 128, 192, 32, 96, 64));
        l.add(maxPool(3, 2, 0, true));
        l.add(inception(192, 96, 208, 16, 48, 64));
        l.add(inception(160, 112, 224, 24, 64, 64));
        l.add(inception(128, 128, 256, 24, 64, 64));
        l.add(inception(112, 144, 288, 32, 64, 64));
        l.add(inception(256, 160, 320, 32, 128, 128));
        l.add(maxPool(2, 2, 0, true));
        l.add(inception(256, 160, 320, 32, 128, 128));
        l.add(inception(384, 192, 384, 48, 128, 128));
        l.addAll(List.of(gap(), flatten(), dropout(0.2), linear(numClasses)));
        return new ModelSpec("googlenet", in, l);
    }

    /** Where the stride of a downsampling bottleneck goes, and where the activations are. */
    public enum ResNetVariant {
        /** He et al. 2015: stride on the first 1×1 of the bottleneck; ReLU after the addition. */
        V1,
        /** torchvision's ResNet ("v1.5"): stride on the 3×3 of the bottleneck. */
        V1_5,
        /** He et al. 2016, pre-activation: BN-ReLU-conv inside the block, nothing after the addition. */
        V2
    }

    private static final Map<Integer, int[]> RESNET_BLOCKS = Map.of(
            18, new int[]{2, 2, 2, 2}, 34, new int[]{3, 4, 6, 3}, 50, new int[]{3, 4, 6, 3},
            101, new int[]{3, 4, 23, 3}, 152, new int[]{3, 8, 36, 3});

    /** ResNet-18/34 (basic blocks) and -50/101/152 (bottlenecks). ResNet-18: 11,689,512; ResNet-50: 25,557,032. */
    public static ModelSpec resnet(int depth, ResNetVariant variant, int numClasses, int[] in) {
        return resnetLike("resnet" + depth + (variant == ResNetVariant.V1_5 ? "" : "-" + variant.name().toLowerCase(Locale.ROOT)),
                depth, variant, 1, 64, 0, numClasses, in);
    }

    /** ResNeXt-50 32×4d: bottlenecks with 32-group 3×3 convolutions, width 4 per group (25,028,904 parameters). */
    public static ModelSpec resnext50(int numClasses, int[] in) {
        return resnetLike("resnext50-32x4d", 50, ResNetVariant.V1_5, 32, 4, 0, numClasses, in);
    }

    /** SE-ResNet-50: ResNet-50 (v1.5) with a squeeze-and-excitation gate (reduction 16) before each addition. */
    public static ModelSpec seResnet50(int numClasses, int[] in) {
        return resnetLike("se-resnet50", 50, ResNetVariant.V1_5, 1, 64, 16, numClasses, in);
    }

    private static ModelSpec resnetLike(String name, int depth, ResNetVariant v, int groups, int widthPerGroup, int seReduction, int numClasses, int[] in) {
        int[] blocks = RESNET_BLOCKS.get(depth);
        if (blocks == null) throw new SpecException("ResNet depth " + depth + " is not one of 18, 34, 50, 101, 152");
        boolean bottleneck = depth >= 50;
        int expansion = bottleneck ? 4 : 1;
        List<LayerSpec> l = new ArrayList<>();
        l.add(conv(64, 7, 2, 3, false));
        if (v != ResNetVariant.V2) l.addAll(List.of(bn(), relu()));
        l.add(maxPool(3, 2, 1, false));
        int inC = 64;
        for (int stage = 0; stage < 4; stage++) {
            int planes = 64 << stage;
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = (b == 0 && stage > 0) ? 2 : 1;
                int outC = planes * expansion;
                boolean project = stride != 1 || inC != outC;
                List<LayerSpec> shortcut = project
                        ? (v == ResNetVariant.V2 ? List.of(conv(outC, 1, stride, 0, false)) : List.of(conv(outC, 1, stride, 0, false), bn()))
                        : List.of();
                List<LayerSpec> body = bottleneck
                        ? bottleneckBody(planes, outC, stride, v, groups, widthPerGroup, seReduction)
                        : basicBody(planes, stride, v);
                if (v == ResNetVariant.V2 && project) {
                    // pre-activation: the projection sees the same BN-ReLU input as the body
                    l.addAll(List.of(bn(), relu()));
                    body = body.subList(2, body.size());
                }
                l.add(residual(body, shortcut, v != ResNetVariant.V2));
                inC = outC;
            }
        }
        if (v == ResNetVariant.V2) l.addAll(List.of(bn(), relu()));
        l.addAll(List.of(gap(), flatten(), linear(numClasses)));
        return new ModelSpec(name, in, l);
    }

    private static List<LayerSpec> basicBody(int planes, int stride, ResNetVariant v) {
        if (v == ResNetVariant.V2) {
            return List.of(bn(), relu(), conv(planes, 3, stride, 1, false), bn(), relu(), conv(planes, 3, 1, 1, false));
        }
        return List.of(conv(planes, 3, stride, 1, false), bn(), relu(), conv(planes, 3, 1, 1, false), bn());
    }

    private static List<LayerSpec> bottleneckBody(int planes, int outC, int stride, ResNetVariant v, int groups, int widthPerGroup, int se) {
        int width = planes * widthPerGroup / 64 * groups;
        int s1 = v == ResNetVariant.V1 ? stride : 1, s3 = v == ResNetVariant.V1 ? 1 : stride;
        List<LayerSpec> b = new ArrayList<>();
        if (v == ResNetVariant.V2) {
            b.addAll(List.of(bn(), relu(), conv(width, 1, s1, 0, false), bn(), relu(),
                    convGrouped(width, 3, s3, 1, groups, false), bn(), relu(), conv(outC, 1, 1, 0, false)));
        } else {
            b.addAll(List.of(conv(width, 1, s1, 0, false), bn(), relu(),
                    convGrouped(width, 3, s3, 1, groups, false), bn(), relu(), conv(outC, 1, 1, 0, false), bn()));
        }
        if (se > 0) b.add(se(se));
        return b;
    }

    @SafeVarargs
    private static List<LayerSpec> concatLists(List<LayerSpec>... parts) {
        List<LayerSpec> out = new ArrayList<>();
        for (List<LayerSpec> p : parts) out.addAll(p);
        return out;
    }

}
