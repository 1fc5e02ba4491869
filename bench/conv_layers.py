"""Each convolution layer of the network, lineart_jax (XLA:CPU) against PyTorch, one by one.

  python bench/conv_layers.py [--width 0.5 --batch 12 --size 128 --reps 5]

Where the train step's time goes, kernel by kernel: for every ``conv`` layer of
``model.LAYERS`` (the encoder and the decoder's stride-1 layers) at its input
size, the forward convolution, the input gradient and the weight gradient, each
jitted alone in lineart_jax (``ops.conv2d`` and its VJP, as the train step runs
them, with the package's XLA:CPU flag) and as ``torch.nn.functional.conv2d`` and
``aten.convolution_backward`` in PyTorch (oneDNN), float32, alternated in one
process on the same thread count; the fastest of ``--reps`` runs each, in ms.
PyTorch is a bench extra: ``pip install torch --index-url
https://download.pytorch.org/whl/cpu``.
"""

import argparse
import os
import time

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import jax
import jax.numpy as jnp
import numpy as np

from lineart_jax.model import LAYERS, channels
from lineart_jax.ops import conv2d

KINDS = ("forward", "input grad", "weight grad")


def conv_layers(width: float, size: int):
  """(name, in channels, out channels, kernel, stride, input side) of each conv layer."""
  out, side, cin = [], size, 3
  for name, kind, features, k, stride, bn in LAYERS:
    cout = features if bn is None else channels(features, width)
    if kind == "conv":
      out.append((name, cin, cout, k, stride, side))
      side //= stride
    else:
      side *= stride
    cin = cout
  return out


def elapsed_ms(fn) -> float:
  t0 = time.perf_counter()
  fn()
  return 1000 * (time.perf_counter() - t0)


def jax_calls(x, w, dy, stride):
  fwd = jax.jit(lambda x, w: conv2d(x, w, stride))
  dx = jax.jit(lambda x, w, dy: jax.vjp(lambda x: conv2d(x, w, stride), x)[1](dy)[0])
  dw = jax.jit(lambda x, w, dy: jax.vjp(lambda w: conv2d(x, w, stride), w)[1](dy)[0])
  xj, wj, dyj = map(jnp.asarray, (x, w, dy))
  return [lambda: fwd(xj, wj).block_until_ready(), lambda: dx(xj, wj, dyj).block_until_ready(),
          lambda: dw(xj, wj, dyj).block_until_ready()]


def torch_calls(x, w, dy, stride):
  import torch
  xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
  wt = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())
  dyt = torch.from_numpy(dy.transpose(0, 3, 1, 2).copy())
  pad = (w.shape[0] - 1) // 2  # same output size as TF 'SAME' on these even sides

  def backward(mask):
    return lambda: torch.ops.aten.convolution_backward(
        dyt, xt, wt, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1, mask)
  return [lambda: torch.nn.functional.conv2d(xt, wt, stride=stride, padding=pad),
          backward([True, False, False]), backward([False, True, False])]


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--width", type=float, default=0.5)
  p.add_argument("--batch", type=int, default=12)
  p.add_argument("--size", type=int, default=128)
  p.add_argument("--reps", type=int, default=5)
  args = p.parse_args()
  try:
    import torch
  except ImportError:
    raise SystemExit("PyTorch is not installed: pip install torch --index-url "
                     "https://download.pytorch.org/whl/cpu")
  torch.set_num_threads(os.cpu_count())
  rng = np.random.default_rng(0)
  print(f"width {args.width:g}, batch {args.batch}, {args.size}x{args.size}, float32, "
        f"{os.cpu_count()} threads; ms, fastest of {args.reps}: lineart_jax / PyTorch")
  print("| layer | in -> out, kernel/stride, side | " + " | ".join(KINDS) + " |")
  print("|---|---|---|---|---|")
  totals = np.zeros((2, 3))
  for name, cin, cout, k, stride, side in conv_layers(args.width, args.size):
    x = rng.normal(size=(args.batch, side, side, cin)).astype(np.float32)
    w = (0.1 * rng.normal(size=(k, k, cin, cout))).astype(np.float32)
    dy = rng.normal(size=(args.batch, side // stride, side // stride, cout)).astype(np.float32)
    calls = [jax_calls(x, w, dy, stride), torch_calls(x, w, dy, stride)]
    ms = np.full((2, 3), np.inf)
    with torch.no_grad():
      for side_calls in calls:
        for fn in side_calls:
          fn()  # compile / warm up
      for _ in range(args.reps):  # alternated, so drift hits both
        for kind in range(3):
          for lib in range(2):
            ms[lib, kind] = min(ms[lib, kind], elapsed_ms(calls[lib][kind]))
    totals += ms
    cells = " | ".join(f"{ms[0, i]:.1f} / {ms[1, i]:.1f}" for i in range(3))
    print(f"| {name} | {cin} -> {cout}, {k}x{k}/{stride}, {side} | {cells} |", flush=True)
  cells = " | ".join(f"**{totals[0, i]:.0f} / {totals[1, i]:.0f}**" for i in range(3))
  print(f"| all | | {cells} |")
  print(f"conv_layers lineart_jax/PyTorch time: {totals[0].sum() / totals[1].sum():.2f}")


if __name__ == "__main__":
  main()
