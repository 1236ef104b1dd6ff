"""PyTorch reference for LenetEpochBench: seconds per training epoch of plain LeNet-5 on the bundled MNIST subset
(8,000 images, batch 64, SGD lr 0.01 momentum 0.9). Usage: /usr/bin/python3 tools/torch_lenet_epoch.py THREADS
Needs Debian's python3-torch (measuring only; never needed to build or test)."""
import gzip, sys, time, statistics
import numpy as np, torch, torch.nn as nn

def idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

torch.set_num_threads(int(sys.argv[1]))
x = torch.tensor((idx('data/mnist/train-images-idx3-ubyte.gz') / 255.0 - 0.1307) / 0.3081, dtype=torch.float32).unsqueeze(1)
y = torch.tensor(idx('data/mnist/train-labels-idx1-ubyte.gz').astype(np.int64))
model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
times = []
for epoch in range(8):
    perm = torch.randperm(len(x))
    t = time.perf_counter()
    for i in range(0, len(x), 64):
        b = perm[i:i + 64]
        opt.zero_grad()
        loss = loss_fn(model(x[b]), y[b])
        loss.backward()
        opt.step()
    times.append(time.perf_counter() - t)
print('pytorch lenet epoch seconds (median of epochs 3-8):', round(statistics.median(times[2:]), 3))
