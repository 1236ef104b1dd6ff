"""PyTorch reference for TrainingStepBench: the same small ResNet-style network (stem 3->32 3x3, a 32-channel basic
block, a strided 64-channel block with a 1x1/2 projection shortcut, global average pool, linear 10) at batch 16 on
3x32x32 inputs, in training mode: milliseconds per forward alone without autograd and per forward + backward (zeroed
gradients, cross-entropy, backward; no optimizer step, as the benchmark), their ratio, as wall-clock and as process CPU
time (all threads). Usage: /usr/bin/python3 tools/torch_small_resnet_step.py THREADS [REPEATS]
Needs Debian's python3-torch (measuring only; never needed to build or test)."""
import sys
import torch, torch.nn as nn
from torch_timing import median_ms

torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[1]))
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 200


def conv_bn(cin, cout, k, stride, pad):
    return [nn.Conv2d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm2d(cout)]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), nn.ReLU(), *conv_bn(cout, cout, 3, 1, 1))
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride, 0)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


model = nn.Sequential(*conv_bn(3, 32, 3, 1, 1), nn.ReLU(), Block(32, 32, 1), Block(32, 64, 2),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).train()
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(16, 3, 32, 32)
y = torch.tensor([i % 10 for i in range(16)])


def forward_backward():
    model.zero_grad()
    loss_fn(model(x), y).backward()


def forward():
    with torch.no_grad():
        model(x)


fw, fc = median_ms(forward, repeats, warmup=20)
bw, bc = median_ms(forward_backward, repeats, warmup=20)
print(f'pytorch {torch.__version__} small resnet batch 16 threads {sys.argv[1]}: forward {fw:.2f} ms wall / {fc:.2f} ms CPU, '
      f'forward+backward {bw:.2f} ms wall / {bc:.2f} ms CPU, ratio {bw / fw:.2f} wall / {bc / fc:.2f} CPU')
