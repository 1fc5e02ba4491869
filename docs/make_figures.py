"""Regenerates the README's pictures.

  python docs/make_figures.py --workdir=workdirs/demo

* docs/synthetic_pairs.png: synthetic (color, line) pairs as the generator draws them;
* docs/before_after.png: validation illustrations | OpenCV method | the trained
  network (``--workdir``) | the true line art.
"""

import argparse
import os

import lineart_jax  # noqa: F401
import numpy as np

from lineart_jax import opencv_method
from lineart_jax.data.imageio import write_png
from lineart_jax.data.synthetic import make_pair
from lineart_jax.infer import NetworkExtractor
from lineart_jax.trainer import VALIDATION_SEED_OFFSET

HERE = os.path.dirname(os.path.abspath(__file__))


def gray3(a):
  return np.repeat(a[..., None], 3, axis=2)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--workdir", required=True)
  p.add_argument("--size", type=int, default=256)
  args = p.parse_args()
  rows = []
  for i in range(0, 6, 2):
    pairs = [make_pair(0, i + k, args.size) for k in range(2)]
    rows.append(np.concatenate([x for c, l in pairs for x in (c, gray3(l))], axis=1))
  write_png(os.path.join(HERE, "synthetic_pairs.png"), np.concatenate(rows, axis=0))

  net = NetworkExtractor.from_weights(args.workdir)
  rows = []
  for i in range(3):
    color, line = make_pair(VALIDATION_SEED_OFFSET, i, args.size)
    pred = np.round(net(color) * 255).astype(np.uint8)
    rows.append(np.concatenate([color, gray3(opencv_method.extract_lines(color)), gray3(pred),
                                gray3(line)], axis=1))
  write_png(os.path.join(HERE, "before_after.png"), np.concatenate(rows, axis=0))


if __name__ == "__main__":
  main()
