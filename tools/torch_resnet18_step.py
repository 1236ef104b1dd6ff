"""PyTorch reference for ResNet18StepBench: milliseconds per ResNet-18 training step (batch 16, 3x224x224, 1000
classes, cross-entropy, SGD lr 0.01 momentum 0.9) and per forward alone in training mode without autograd, plus the
ratio step / forward, as wall-clock and as process CPU time (all threads). Usage: /usr/bin/python3 tools/torch_resnet18_step.py THREADS [STEPS]
Needs Debian's python3-torch and python3-torchvision (measuring only; never needed to build or test)."""
import sys
import torch, torch.nn as nn
from torch_timing import median_ms

torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[1]))
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 8
try:
    from torchvision.models import resnet18
    model = resnet18(num_classes=1000)
except ImportError:
    sys.exit('needs torchvision (python3-torchvision)')
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(16, 3, 224, 224)
y = torch.tensor([(i * 37) % 1000 for i in range(16)])

def step():
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()

def forward():
    with torch.no_grad():
        model(x)

fw, fc = median_ms(forward, steps)
sw, sc = median_ms(step, steps)
print(f'pytorch {torch.__version__} resnet18 batch 16 threads {sys.argv[1]}: forward {fw:.0f} ms wall / {fc:.0f} ms CPU, '
      f'train step {sw:.0f} ms wall / {sc:.0f} ms CPU, step/forward {sw / fw:.2f} wall / {sc / fc:.2f} CPU')
