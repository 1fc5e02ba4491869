"""Held-out synthetic anime frames, both targets: the contours control against truth.

  python bench/contours.py --checkpoint=WEIGHTS [--baseline=pretrained] [--pairs 120]
          [--seed 99] [--size 384] [--frames 1.0] [--tone drawn] [--traced] [--by-scene]

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

Each model's row also gives its ``grid`` (``lineart_jax.agreement``: how much its
output favours one phase of a 4x4 pixel grid, pooled over the pairs; about 1
for line art, as the targets' row shows; well above where faint lines come out
as dots 4 px apart, which F@2 within 2 px can't see).

``--by-scene`` then splits the model's scores by what each pair shows
(``synthetic.SCENES``: a night sky, a city, graphics, ...), at the threshold the
whole set chose: each scene's share of the target's ink, of the ink the model
missed and of its false ink, its F@2, and the share of its missed ink that lies
inside a solid fill of the target (a filled black shape's interior): where a
model's misses lie (on the untraced frames, the CG cities' rows of lit windows;
before the generator kept ink spots smaller than black paint,
``synthetic.INK_SPOT_LARGEST``, also the insides of black fills in every scene).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from lineart_jax.agreement import pooled_grid, solid_ink  # noqa: E402
from lineart_jax.data.synthetic import SCENES, FrameKind, make_pair  # noqa: E402
from lineart_jax.evaluation import (TOLERANCE, InkFScore, score_images,  # noqa: E402
                                    tolerance_disk)
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
  p.add_argument("--by-scene", action="store_true",
                 help="then the model's scores split by scene")
  args = p.parse_args(argv)
  names = [f"{i:06d}" for i in range(args.pairs)]
  models = {"model": args.checkpoint, "baseline": args.baseline}
  extractors = {label: NetworkExtractor.from_weights(spec) for label, spec in models.items()}
  rows, scene_rows = [], []
  for contours in ("drawn", "all"):
    target_style = Style(contours=contours, tone=args.tone)
    pairs, scenes = [], []
    for i in range(args.pairs):
      info = {}
      color, line = make_pair(args.seed, i, args.size, style=target_style, frames=args.frames,
                              kind=FrameKind(traced=args.traced), info=info)
      pairs.append({"color": color, "line": line})
      scenes.append(info["scene"])
    for label, extractor in extractors.items():
      # the target's style; the baseline's default where it lacks the contours entry
      fits = label == "model" or extractor.style_dims >= target_style.dims_needed
      extractor.style = target_style if fits else Style(tone=args.tone)
      extractor.check_style(extractor.style)
      predictions = {}
      scores = score_images(extractor, pairs, names, None, predictions=predictions)
      in_order = [predictions[n] for n in names]
      rows.append((contours, f"{label} ({models[label]}, {extractor.style.describe()})",
                   scores["model"], pooled_grid(in_order)))
      if label == "model" and args.by_scene:
        scene_rows += by_scene(in_order, pairs, scenes, scores["model"]["threshold"], contours)
    rows.append((contours, "OpenCV dilate-diff", scores["opencv"], None))
    rows.append((contours, "the target itself", None,
                 pooled_grid([pair["line"].astype(np.float32) / 255.0 for pair in pairs])))
  print(f"\n{args.pairs} pairs, seed {args.seed}, {args.size} px, frames {args.frames:g}"
        f"{' (traced)' if args.traced else ''}")
  print(f"{'target':8s} {'method':80s} {'F@2':>6s} {'P':>6s} {'R':>6s} {'PSNR':>6s} "
        f"{'grid':>6s}")
  for target, method, s, g in rows:
    scores = (f"{s['f_score']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f} {s['psnr']:6.2f}"
              if s else f"{'':27s}")
    print(f"{target:8s} {method:80s} {scores} {'' if g is None else f'{g:6.2f}'}")
  if scene_rows:
    print("\nthe model by scene, at the whole set's threshold; shares of the set's target ink, "
          "of the target ink it missed and of its false ink; the share of the scene's missed "
          "ink that lies inside a solid fill of the target")
    print(f"{'target':8s} {'scene':14s} {'pairs':>5s} {'ink':>6s} {'missed':>6s} {'false':>6s} "
          f"{'F@2':>6s} {'P':>6s} {'R':>6s} {'fills':>6s}")
    for row in scene_rows:
      print("{:8s} {:14s} {:5d} {:6.1%} {:6.1%} {:6.1%} {:6.3f} {:6.3f} {:6.3f} {:6.1%}"
            .format(*row))


def missed_in_fills(pred, line, threshold: float) -> tuple[int, int]:
  """(target ink pixels missed, of those the ones inside a solid fill): ink of
  the (H, W) uint8 target ``line`` with no predicted ink (``pred`` < threshold)
  within the F-score's tolerance, and of it what lies more than
  ``agreement.SOLID_RADIUS`` px inside the target's ink (a filled black shape's
  interior, which the paper's loss map weighs at 0.21, ``losses``)."""
  target = line < 128
  near = cv2.dilate((pred < threshold).astype(np.uint8), tolerance_disk(TOLERANCE)) > 0
  missed = target & ~near
  return int(missed.sum()), int((missed & solid_ink(target)).sum())


def by_scene(predictions, pairs, scenes, threshold: float, target: str) -> list[tuple]:
  """Rows (target, scene, pairs, shares of ink, missed and false ink, F@2, P, R,
  share of the scene's missed ink inside solid fills) for each scene present,
  the model's ``predictions`` thresholded at ``threshold``."""
  fscores, fills = {}, {}
  for pred, pair, scene in zip(predictions, pairs, scenes):
    fscores.setdefault(scene, InkFScore(thresholds=[threshold])).add(pred, pair["line"] / 255.0)
    fills[scene] = np.add(fills.get(scene, 0), missed_in_fills(pred, pair["line"], threshold))
  # each: precision hits, predicted ink, recall hits, target ink
  total = sum(f.counts[0] for f in fscores.values())
  missed_all, false_all = total[3] - total[2], total[1] - total[0]
  rows = []
  for scene in [s for s in SCENES if s in fscores]:
    hits_p, n_p, hits_r, n_t = fscores[scene].counts[0]
    r = fscores[scene].result()
    rows.append((target, scene, scenes.count(scene), n_t / max(total[3], 1),
                 (n_t - hits_r) / max(missed_all, 1), (n_p - hits_p) / max(false_all, 1),
                 r["f_score"], r["precision"], r["recall"],
                 fills[scene][1] / max(fills[scene][0], 1)))
  whole = InkFScore(thresholds=[threshold])
  whole.counts[0] = total
  r = whole.result()
  missed, in_fills = np.sum(list(fills.values()), axis=0)
  rows.append((target, "all", len(scenes), 1.0, 1.0, 1.0, r["f_score"], r["precision"],
               r["recall"], in_fills / max(missed, 1)))
  return rows


if __name__ == "__main__":
  main()
