"""Held-out synthetic anime frames, both targets: the contours control against truth.

  python bench/contours.py --checkpoint=WEIGHTS [--baseline=pretrained] [--pairs 120]
      [--seed 99] [--size 384] [--frames 1.0] [--tone drawn] [--traced]

Unlike real frames (``lineart_jax.agreement``: agreement with a peer, no truth),
the generator knows both line arts of a pair exactly: the drawn lines
(``contours=drawn``) and every flat-color boundary besides (``contours=all``).
For ``--pairs`` pairs of seed ``--seed`` (one no recipe trains on; 2 and 7 and 13
are the recipes'), ``--frames`` of them anime frames (``--traced``: traced
cels, ``synthetic --traced``), this scores whole images (F@2 at the best
threshold of the set, and PSNR, ``evaluation.score_images``):

* the drawn target: the model with ``--contours=drawn``, the baseline model
  (the shipped one unless ``--baseline``) likewise, and the OpenCV method;
* the all-contours target: the model with ``--contours=all``, the baseline
  likewise where it has the contours entry (else in its default style: it knows
  drawn lines only) and the OpenCV method.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lineart_jax.data.synthetic import FrameKind, make_pair  # noqa: E402
from lineart_jax.evaluation import score_images  # noqa: E402
from lineart_jax.infer import NetworkExtractor  # noqa: E402
from lineart_jax.style import Style  # noqa: E402


def main(argv=None) -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--checkpoint", required=True, help="weights with the contours entry")
  p.add_argument("--baseline", default="pretrained", help="weights to compare (default style)")
  p.add_argument("--pairs", type=int, default=120)
  p.add_argument("--seed", type=int, default=99)
  p.add_argument("--size", type=int, default=384)
  p.add_argument("--frames", type=float, default=1.0, help="fraction of anime frames")
  p.add_argument("--tone", default="drawn", choices=["drawn", "dark"])
  p.add_argument("--traced", action="store_true",
                 help="the frames as traced cels (synthetic --traced)")
  args = p.parse_args(argv)
  names = [f"{i:06d}" for i in range(args.pairs)]
  models = {"model": args.checkpoint, "baseline": args.baseline}
  extractors = {label: NetworkExtractor.from_weights(spec) for label, spec in models.items()}
  rows = []
  for contours in ("drawn", "all"):
    target_style = Style(contours=contours, tone=args.tone)
    pairs = []
    for i in range(args.pairs):
      color, line = make_pair(args.seed, i, args.size, style=target_style, frames=args.frames,
                              kind=FrameKind(traced=args.traced))
      pairs.append({"color": color, "line": line})
    for label, extractor in extractors.items():
      # the target's style; the baseline's default where it lacks the contours entry
      fits = label == "model" or extractor.style_dims >= target_style.dims_needed
      extractor.style = target_style if fits else Style(tone=args.tone)
      extractor.check_style(extractor.style)
      scores = score_images(extractor, pairs, names, None)
      rows.append((contours, f"{label} ({models[label]}, {extractor.style.describe()})",
                   scores["model"]))
    rows.append((contours, "OpenCV dilate-diff", scores["opencv"]))
  print(f"\n{args.pairs} pairs, seed {args.seed}, {args.size} px, frames {args.frames:g}"
        f"{' (traced)' if args.traced else ''}")
  print(f"{'target':8s} {'method':80s} {'F@2':>6s} {'P':>6s} {'R':>6s} {'PSNR':>6s}")
  for target, method, s in rows:
    print(f"{target:8s} {method:80s} {s['f_score']:6.3f} {s['precision']:6.3f} "
          f"{s['recall']:6.3f} {s['psnr']:6.2f}")


if __name__ == "__main__":
  main()
