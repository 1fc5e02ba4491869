"""lineart_jax's train step against a PyTorch port of the same step, timed interleaved.

  python bench/compare_torch.py [--widths 0.25 0.5 1] [--reps 3] [--steps 5]
  python bench/compare_torch.py --torch-step --width 0.5 --batch 12   # one PyTorch run

PyTorch is a bench extra, never a dependency of the package: on a CPU machine
``pip install torch --index-url https://download.pytorch.org/whl/cpu``.

Both sides run the same step: the seed network at the given width (the layer
list is read from ``lineart_jax.model.LAYERS``; TF 'SAME' padding, BatchNorm in
training mode, sigmoid), the paper's loss map (local histograms, alpha 6, beta -2,
10 bins, radius 2) times the squared error, backward, Adam 2e-5; float32, the same
batch of uint8 128x128 crops, the same number of threads (this machine's cores).
Each measurement is a fresh process (``bench/train_step.py`` for lineart_jax,
this file with ``--torch-step`` for PyTorch), alternated, so neither library's
thread pool spins while the other runs and machine drift hits both alike.
lineart_jax's side runs as its training processes do, with their malloc setting
(lineart_jax/_malloc.py); PyTorch's with glibc's defaults, as its users run it.
The ratio printed is lineart_jax img/s / PyTorch img/s (> 1: lineart_jax faster).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = {0.25: 12, 0.5: 12, 1.0: 15}  # what people train with at each width here


def torch_step(width: float, batch: int, size: int, steps: int) -> float:
  """img/s of the PyTorch port's train step (prints the per-step times)."""
  import numpy as np
  import torch
  import torch.nn.functional as F
  sys.path.insert(0, os.path.dirname(HERE))
  from lineart_jax.model import LAYERS, channels

  torch.set_num_threads(os.cpu_count())
  torch.manual_seed(0)

  class Net(torch.nn.Module):
    def __init__(self):
      super().__init__()
      self.layers = torch.nn.ModuleList()
      self.specs = []
      cin = 3
      for name, kind, out, k, stride, bn in LAYERS:
        cout = out if bn is None else channels(out, width)
        if kind == "conv":
          conv = torch.nn.Conv2d(cin, cout, k, stride, padding=0, bias=bn is None)
        else:  # TF conv2d_transpose 'SAME': output = stride * input
          conv = torch.nn.ConvTranspose2d(cin, cout, k, stride, padding=(k - stride) // 2,
                                          bias=bn is None)
        norm = torch.nn.BatchNorm2d(cout, momentum=0.01) if bn else None
        self.layers.append(torch.nn.ModuleList([conv] + ([norm] if norm else [])))
        self.specs.append((kind, k, stride, bn is not None))
        cin = cout

    def forward(self, x):
      for (kind, k, stride, has_bn), mods in zip(self.specs, self.layers):
        if kind == "conv":  # TF 'SAME' on sides divisible by the stride
          total = max(k - stride, 0)
          x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
        x = mods[0](x)
        if has_bn:
          x = torch.relu(mods[1](x))
      return torch.sigmoid(x)

  def loss_map(t, alpha=6.0, beta=-2.0, bins=10, radius=2, white=0.95):
    n, _, h, w = t.shape
    b = torch.clamp(torch.floor(t * bins), max=bins - 1).to(torch.int32)
    padded = F.pad(b, (radius,) * 4, value=-1)
    same = torch.zeros_like(t)
    for du in range(2 * radius + 1):
      for dv in range(2 * radius + 1):
        same += (padded[..., du:du + h, dv:dv + w] == b).float()
    along = lambda m: (torch.clamp(torch.arange(m) + radius, max=m - 1)
                       - torch.clamp(torch.arange(m) - radius, min=0) + 1).float()
    share = same / torch.outer(along(h), along(w))
    weight = torch.clamp(alpha * torch.exp(-share) + beta, max=1.0)
    return torch.where(t >= white, torch.ones_like(weight), weight)

  net = Net().train()
  optimizer = torch.optim.Adam(net.parameters(), lr=2e-5)
  rng = np.random.default_rng(0)
  color = torch.from_numpy(rng.integers(0, 256, (batch, 3, size, size), np.uint8))
  line = torch.from_numpy(rng.integers(0, 256, (batch, 1, size, size), np.uint8))

  def step():
    x, t = color.float() / 255.0, line.float() / 255.0
    with torch.no_grad():
      m = loss_map(t)
    out = net(x)
    loss = ((m * (out - t)) ** 2).flatten(1).sum(1).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())

  step()  # warm-up
  times = []
  for _ in range(steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
  print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; width {width}, "
        f"batch {batch}, {size}x{size}")
  print("step times (s): " + " ".join(f"{t:.2f}" for t in times))
  rate = batch * len(times) / sum(times)
  print(f"torch_step img/s: {rate:.3f}")
  return rate


def _run(cmd: list[str], pattern: str) -> float:
  p = subprocess.run(cmd, capture_output=True, text=True)
  match = re.search(pattern + r" img/s: ([\d.]+)", p.stdout)
  if p.returncode or not match:
    sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
  return float(match.group(1))


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--widths", type=float, nargs="+", default=[0.25, 0.5, 1.0])
  p.add_argument("--reps", type=int, default=3, help="interleaved repetitions per width")
  p.add_argument("--steps", type=int, default=5, help="timed steps per run, after a warm-up")
  p.add_argument("--size", type=int, default=128)
  p.add_argument("--torch-step", action="store_true", help="time one PyTorch run and exit")
  p.add_argument("--width", type=float, default=0.5, help="with --torch-step")
  p.add_argument("--batch", type=int, default=12, help="with --torch-step")
  args = p.parse_args()
  if args.torch_step:
    torch_step(args.width, args.batch, args.size, args.steps)
    return 0
  try:
    import torch  # noqa: F401
  except ImportError:
    sys.exit("PyTorch is not installed: pip install torch --index-url "
             "https://download.pytorch.org/whl/cpu")
  print(f"{os.cpu_count()} cores; {args.reps} interleaved repetitions; ratio = lineart_jax "
        "img/s / PyTorch img/s", flush=True)
  summary = []
  for width in args.widths:
    batch = BATCH.get(width, 12)
    common = ["--width", str(width), "--batch", str(batch), "--steps", str(args.steps),
              "--size", str(args.size)]
    ratios = []
    for rep in range(args.reps):
      jax_rate = _run([sys.executable, os.path.join(HERE, "train_step.py"), *common],
                      "train_step")
      torch_rate = _run([sys.executable, __file__, "--torch-step", *common], "torch_step")
      ratios.append(jax_rate / torch_rate)
      print(f"width {width:g}, batch {batch}, rep {rep + 1}: lineart_jax {jax_rate:.2f} img/s, "
            f"PyTorch {torch_rate:.2f} img/s, ratio {ratios[-1]:.2f}", flush=True)
    summary.append((width, batch, ratios))
  print("\n| width | batch | ratio per repetition | median |\n|---|---|---|---|")
  for width, batch, ratios in summary:
    print(f"| {width:g} | {batch} | {', '.join(f'{r:.2f}' for r in ratios)} | "
          f"{statistics.median(ratios):.2f} |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
