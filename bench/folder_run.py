"""Images/s of a folder run (read, network, write) beside the network alone.

  python bench/folder_run.py [--count 200 --size 960x540 --checkpoint pretrained
                              --batch 1 --io-threads 2 --block 10 --keep DIR]

Makes COUNT JPEG frames (quality 95) of SIZE from synthetic illustrations
(``lineart_jax.data.synthetic``, one drawing per 8 frames, panned across it as a
camera would), loads the model once and compiles it on one frame outside the
timing, then times, block by block (``--block`` frames):

* **network**: ``LineArtExtractor.lines`` on the block's frames already decoded
  in memory, in the groups the folder run makes (same-sized frames sharing
  ``--batch`` tiles per call): what the network alone sustains;
* **folder run**: ``dataset_run.run`` on the block's files into a fresh output
  folder: decoding, the network and atomic PNG writes overlapped, as
  ``python -m lineart_jax.infer FOLDER --out=OUT`` runs them.

Why blocks, alternating which goes first: on a shared machine the load moves by
tens of percent within minutes, and two long passes one after the other would
measure the load; blocks of a minute or so see the same load in both.  Prints
images/s of both over all blocks and their ratio (the goal: the run at >= 90 %
of the network), the process CPU seconds per image of each (what reading and
writing add), and the load average before and after.
"""

import argparse
import os
import shutil
import tempfile
import time

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import cv2
import numpy as np

from lineart_jax import dataset_plan, dataset_run
from lineart_jax.api import LineArtExtractor
from lineart_jax.data.imageio import read_color
from lineart_jax.data.synthetic import make_pair
from lineart_jax.style import Style

FRAMES_PER_DRAWING = 8


def make_frames(folder: str, count: int, width: int, height: int) -> None:
  """``count`` frames ``frame_NNNNN.jpg``: each drawing scaled to cover the frame's
  long side and panned down it, ``FRAMES_PER_DRAWING`` frames per drawing."""
  os.makedirs(folder, exist_ok=True)
  side = max(width, height)
  for d in range(-(-count // FRAMES_PER_DRAWING)):
    drawing = cv2.resize(make_pair(17, d, 544)[0], (side, side), interpolation=cv2.INTER_CUBIC)
    for j in range(FRAMES_PER_DRAWING):
      i = d * FRAMES_PER_DRAWING + j
      if i >= count:
        return
      y = (side - height) * j // (FRAMES_PER_DRAWING - 1)
      x = (side - width) * j // (FRAMES_PER_DRAWING - 1)
      frame = drawing[y:y + height, x:x + width]
      cv2.imwrite(os.path.join(folder, f"frame_{i:05d}.jpg"), frame[..., ::-1],
                  [cv2.IMWRITE_JPEG_QUALITY, 95])


def network_alone(extractor: LineArtExtractor, frames: list[np.ndarray]) -> float:
  """Seconds for the network on decoded frames, grouped as the folder run groups them."""
  group = extractor.images_per_call(*frames[0].shape[:2])
  start = time.perf_counter()
  for i in range(0, len(frames), group):
    extractor.lines(frames[i:i + group], Style())
  return time.perf_counter() - start


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--count", type=int, default=200)
  p.add_argument("--size", default="960x540", help="WIDTHxHEIGHT")
  p.add_argument("--checkpoint", default="pretrained", help="as LineArtExtractor.load")
  p.add_argument("--batch", type=int, default=1, help="tiles per device call")
  p.add_argument("--tile", type=int, default=768)
  p.add_argument("--io-threads", type=int, default=2)
  p.add_argument("--block", type=int, default=10, help="frames per timed block")
  p.add_argument("--keep", help="make (or reuse) the frames in this folder")
  args = p.parse_args()
  width, height = (int(v) for v in args.size.split("x"))
  tmp = tempfile.mkdtemp(prefix="lineart_bench_")
  try:
    src = args.keep or os.path.join(tmp, "frames")
    t0 = time.perf_counter()
    if not (os.path.isdir(src) and len(os.listdir(src)) >= args.count):
      make_frames(src, args.count, width, height)
    names = sorted(os.listdir(src))[:args.count]
    print(f"{len(names)} frames of {width}x{height} in {src} "
          f"({time.perf_counter() - t0:.0f} s to make or list)")
    frames = [read_color(os.path.join(src, n)) for n in names]
    extractor = LineArtExtractor.load(args.checkpoint, tile=args.tile, batch=args.batch)
    print(f"model: {extractor.description}; batch {args.batch}, tile {args.tile}, "
          f"io threads {args.io_threads}")
    t0 = time.perf_counter()
    network_alone(extractor, frames[:extractor.images_per_call(height, width)])
    print(f"compile + first call: {time.perf_counter() - t0:.1f} s")
    options = dataset_run.Options(io_threads=args.io_threads)
    load = os.getloadavg()[0]
    seconds = {"network": 0.0, "run": 0.0, "run_network": 0.0}
    cpu = {"network": 0.0, "run": 0.0}

    def timed(what, fn):
      c0 = sum(os.times()[:2])
      seconds[what] += fn()
      cpu[what] += sum(os.times()[:2]) - c0

    def folder_run(block_names, out):  # as infer runs it, the listing included
      t0 = time.perf_counter()
      plan = dataset_plan.make_plan([os.path.join(src, n) for n in block_names], out)
      summary = dataset_run.run(plan, extractor, options, log=print)
      assert summary.images == len(block_names) and not summary.failures, summary.failures
      seconds["run_network"] += summary.network_seconds
      return time.perf_counter() - t0

    for b, i in enumerate(range(0, len(names), args.block)):
      out = os.path.join(tmp, f"out{b}")
      steps = [("network", lambda: network_alone(extractor, frames[i:i + args.block])),
               ("run", lambda: folder_run(names[i:i + args.block], out))]
      for what, fn in steps[::1 if b % 2 == 0 else -1]:
        timed(what, fn)
      shutil.rmtree(out)
      print(f"block {b}: network {seconds['network']:.1f} s, run {seconds['run']:.1f} s (of "
            f"which in the network {seconds['run_network']:.1f} s) so far")
    net, run = len(frames) / seconds["network"], len(frames) / seconds["run"]
    print(f"network alone {net:.3f} images/s ({cpu['network'] / len(frames):.2f} CPU-s/image), "
          f"folder run {run:.3f} images/s ({cpu['run'] / len(frames):.2f} CPU-s/image): "
          f"{100 * run / net:.1f} % of the network; load average {load:.2f} -> "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
  main()
