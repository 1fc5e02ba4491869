"""CLI: extract line art from illustrations of any size, folders and videos.

  python -m lineart_jax.infer INPUT... [--workdir=DIR | --checkpoint=PATH] [--out=DIR]
  python -m lineart_jax.infer INPUT... --method=opencv
  python -m lineart_jax.infer INPUT... --line-weight=0.5 --detail=0 --tone=dark --blacks=paint
  python -m lineart_jax.infer frames/ episode.mkv --out=lines/ [--shard=K/N] [--every=N --frames]

With neither ``--workdir`` nor ``--checkpoint`` the shipped model
(``lineart_jax/pretrained``) is used; ``--model=FILE.onnx`` runs an exported
model in onnxruntime.  The line-style flags (``lineart_jax.style``; defaults: the
default style, what a model without a style input draws) need a model with a
style input.  INPUT is files, folders (their images and videos, recursively) or
globs.  Each image gives an 8-bit grayscale PNG at the input's own size,
``<stem>_lineart.png``, beside the input or in ``--out``, where the inputs'
relative paths are mirrored; a video gives ``<stem>_lineart.mp4`` (or, with
``--frames``, a folder of numbered PNGs).  Large images are processed in
overlapping tiles of a fixed shape (see ``lineart_jax.tiling``): memory stays
bounded and the result equals the untiled one.  Compiled programs are cached on
disk (``~/.cache/lineart_jax/jax``), so later runs skip compilation.

Dataset runs (``lineart_jax.dataset_plan``, ``lineart_jax.dataset_run``): two
inputs mapped to one output are refused before anything runs; every write is
atomic; rerunning a command skips what is done (``--overwrite`` does not);
``--shard K/N`` takes a fixed share of the inputs.  The extraction itself is
``lineart_jax.LineArtExtractor`` (``lineart_jax.api``).

A bad input (unreadable, truncated, not an image, absurdly large) prints one
message and the other files are still processed; the exit status is then 1 and,
with ``--out``, the failed inputs are listed in ``OUT/lineart_failures.tsv``.
"""

from __future__ import annotations

import argparse
import sys

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)

from lineart_jax import dataset_plan, dataset_run, video
from lineart_jax import style as style_lib
from lineart_jax.api import LineArtExtractor
# the extractors lived here first; their users import them from here
from lineart_jax.extractors import (CACHE_DIR, TILE_PROGRESS_ABOVE, NetworkExtractor,  # noqa: F401
                                    OnnxExtractor, TiledExtractor, extract, to_uint8)

SUFFIX = dataset_plan.SUFFIX


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description="Extract line art from illustrations.")
  p.add_argument("inputs", nargs="+", help="image or video files, folders or globs")
  src = p.add_mutually_exclusive_group()
  src.add_argument("--workdir", help="training workdir (its latest checkpoint)")
  src.add_argument("--checkpoint", help="a checkpoint step folder, checkpoints/ folder, or a "
                   "folder of weights in the shipped format "
                   "(python -m lineart_jax.pretrained RUN --out DIR)")
  src.add_argument("--model", help="an exported .onnx file (lineart_jax.export), run in "
                   "onnxruntime")
  src.add_argument("--pretrained", action="store_true",
                   help="the shipped model (the default without --workdir/--checkpoint)")
  p.add_argument("--out", help="output folder, mirroring the inputs' relative paths "
                 "(default: beside each input)")
  p.add_argument("--method", choices=["network", "opencv"], default="network")
  p.add_argument("--threshold", type=float, help="binarize: ink where value < THRESHOLD")
  p.add_argument("--max-side", type=int, help="extract at most at this long side, then upscale")
  p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
  p.add_argument("--tile", type=int, default=768, help="tile side (multiple of 8)")
  p.add_argument("--batch", type=int, default=1, help="tiles per device call (same-sized "
                 "images share them)")
  g = p.add_argument_group("dataset runs")
  g.add_argument("--overwrite", action="store_true",
                 help="recompute outputs that exist (default: skip them, so a rerun resumes)")
  g.add_argument("--shard", help="K/N: only this share of the inputs (N processes or machines "
                 "with K = 0..N-1 cover them once)")
  g.add_argument("--every", type=int, default=1, help="videos: every Nth frame (the video's "
                 "rate divided by N)")
  g.add_argument("--frames", action="store_true",
                 help="videos: numbered PNG frames in <stem>_lineart/ instead of a video")
  g.add_argument("--video-format", choices=sorted(video.FORMATS), default="mp4",
                 help="line-art videos: mp4 (MPEG-4 part 2, plays everywhere, lossy) or mkv "
                 "(FFV1, lossless)")
  g.add_argument("--io-threads", type=int, default=2,
                 help="threads decoding and writing files beside the network")
  style_lib.add_arguments(p)
  args = p.parse_args(argv)
  try:
    style = style_lib.from_arguments(args)
    shard = dataset_plan.parse_shard(args.shard) if args.shard else None
  except ValueError as e:
    p.error(str(e))
  if args.method == "opencv" and not style.is_default:
    p.error("the line-style flags need a network (--method=network), not the OpenCV method")
  if args.every < 1 or args.io_threads < 1 or args.batch < 1:
    p.error("--every, --io-threads and --batch must be at least 1")

  plan = dataset_plan.make_plan(args.inputs, args.out, frames=args.frames, every=args.every,
                                shard=shard, overwrite=args.overwrite,
                                video_format=args.video_format)
  if plan.collisions:
    for message in plan.collisions:
      print(f"error: two inputs, one output: {message}", file=sys.stderr)
    print(f"error: refused before any work: {len(plan.collisions)} output name(s) claimed "
          "twice; rename one of each pair or give them separate --out folders", file=sys.stderr)
    return 2
  for e in plan.errors:
    print(f"error: {e}", file=sys.stderr)
  for where, reason in plan.failures:
    print(f"error: {where}: {reason}", file=sys.stderr)
  if plan.skipped:
    print(f"resume: {plan.skipped} of {plan.skipped + plan.todo} outputs"
          f"{' of this shard' if shard else ''} exist and are whole, skipped "
          "(--overwrite recomputes them)", file=sys.stderr)

  summary = dataset_run.Summary()
  if plan.jobs:
    try:
      if args.method == "opencv":
        extractor = LineArtExtractor.opencv_method()
      elif args.model:  # an ONNX file, whatever its name ends with
        extractor = LineArtExtractor(OnnxExtractor(args.model, tile=args.tile, batch=args.batch))
      else:
        extractor = LineArtExtractor.load(args.workdir or args.checkpoint or "pretrained",
                                          compute_dtype=args.dtype, tile=args.tile,
                                          batch=args.batch)
      extractor.check_style(style)
    except (FileNotFoundError, ValueError) as e:
      print(f"error: {e}", file=sys.stderr)
      return 2
    description = extractor.description
    if not style.is_default:
      description += f"; style: {style.describe()}"
    print(f"model: {description}", file=sys.stderr)
    options = dataset_run.Options(style, args.threshold, args.max_side, args.io_threads)
    summary = dataset_run.run(plan, extractor, options)
  failures = plan.failures + summary.failures
  if plan.failures_file:
    dataset_run.write_failures(plan.failures_file, failures)
  failed = len(plan.errors) + len(failures)
  mp, seconds = summary.pixels / 1e6, summary.seconds
  print(f"{summary.images} images, {mp:.2f} megapixels in {seconds:.1f} s"
        + (f" ({seconds / mp:.2f} s/megapixel, {summary.images / seconds:.2f} images/s)"
           if mp else "")
        + (f"; {summary.videos} videos written" if summary.videos else "")
        + (f"; {plan.skipped} skipped (done before)" if plan.skipped else "")
        + (f"; {failed} failed" if failed else "")
        + (f" (listed in {plan.failures_file})" if failures and plan.failures_file else ""))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
