"""Augmented 128x128 pairs per second from the Grain pipeline.

  python bench/loader.py [--pairs 64 --size 1000 --batch 15 --seconds 10]

Builds a packed dataset of ``--pairs`` synthetic pairs of ``--size`` px in a
temporary folder, then measures the pipeline from it with 0 and 2 workers, and
from the synthetic source.  The last line is ``loader pairs/s: X`` (packed data,
2 workers).
"""

import argparse
import tempfile
import time

import cv2
import numpy as np

from lineart_jax.data import packed, pipeline, synthetic
from lineart_jax.data.pairs import Pair


def rate(dataset, batch: int, seconds: float) -> float:
  it = iter(dataset)
  next(it)  # start-up (worker processes) is not counted
  n, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds:
    next(it)
    n += batch
  return n / (time.perf_counter() - t0)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--pairs", type=int, default=64)
  p.add_argument("--size", type=int, default=1000)
  p.add_argument("--batch", type=int, default=15)
  p.add_argument("--seconds", type=float, default=10.0)
  args = p.parse_args()
  aug = pipeline.Augment(crop=128)
  with tempfile.TemporaryDirectory() as tmp:
    pairs = []
    for i in range(args.pairs):  # large pairs: tile 256-px synthetic drawings
      c, l = synthetic.make_pair(0, i, 256)
      reps = -(-args.size // 256)
      c = np.tile(c, (reps, reps, 1))[:args.size, :args.size]
      l = np.tile(l, (reps, reps))[:args.size, :args.size]
      pairs.append(Pair(f"{tmp}/c{i}.png", f"{tmp}/l{i}.png"))
      cv2.imwrite(pairs[-1].color, c[..., ::-1])
      cv2.imwrite(pairs[-1].line, l)
    packed.pack(pairs, f"{tmp}/packed", show_progress=False)
    source = packed.PackedSource(f"{tmp}/packed")
    results = {}
    for workers in (0, 2):
      ds = pipeline.make_dataset(source, global_batch=args.batch, seed=0, augment=aug,
                                 workers=workers)
      results[workers] = rate(ds, args.batch, args.seconds)
      print(f"packed {args.size}px pairs, {workers} workers: {results[workers]:.0f} pairs/s")
    ds = pipeline.make_dataset(synthetic.SyntheticSource(0, 256), global_batch=args.batch,
                               seed=0, augment=aug, workers=2)
    print(f"synthetic 256px source, 2 workers: {rate(ds, args.batch, args.seconds):.0f} pairs/s")
  print(f"loader pairs/s: {results[2]:.0f}")


if __name__ == "__main__":
  main()
