"""What each line-style control does to a style model's output, measured.

  python bench/style_controls.py --checkpoint=pretrained \
      [--emotes=DIR] [--anime-dev=DIR] [--frames=DIR] [--synthetic=30] [--json=FILE]

A model with a style input (``config.model.style_dims=5``, ``lineart_jax.style``)
draws every image of each set in several styles; each control's effect is
measured against the default style of the same model:

* line weight 0.5 / 1 / 2: the median over images of 2 x ink area / skeleton
  length (``evaluation.stroke_width``: lines = value < 0.75, their area in
  full-ink pixels, solid fills left out), on the pairs of ``--emotes`` and on
  ``--synthetic`` generator pairs (seed 2027, 384 px; their targets drawn at the
  same weights are printed beside);
* detail 1 / 0 on the synthetic pairs: predicted ink pixels, and the outline
  recall: the fraction of the true detail-0 target's ink (every non-detail
  stroke, < 0.5) within 2 px of the detail-0 prediction's ink; predicted ink is
  value < 0.5, and < 0.75 (light lines too) beside it;
* solid blacks auto / ink / paint: PSNR and F@2 (``evaluation.score``) on the
  emotes and on ``--anime-dev``, and there the ink inside large dark regions:
  the fraction of pixels predicted as ink (< 0.5) inside the color image's
  dark areas (luminance < 80 of 255, opened with a 15-px disk, so lines are not
  areas, then eroded 2 px), pooled over the set;
* tone drawn / dark on the frames of ``--frames`` (images in ``color/`` and
  peers' outputs in ``peers/<name>/``, no truth): the median darkness (1 -
  value) of the line cores (the skeleton of the pixels below 0.75: a line's
  anti-aliased edge is not its tone) beside each peer's, and the share of the
  dark tone's ink (< 0.75) within 2 px of a mark (value < 0.9) of the default's.

Each set is optional (a folder of pairs: ``color/`` + ``line/``); the figures
printed are the ones in README.md and docs/model_card.md.
"""

from __future__ import annotations

import argparse
import glob
import json
import os

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import cv2
import numpy as np

from lineart_jax import evaluation
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_color, read_line
from lineart_jax.evaluate import load_pairs
from lineart_jax.infer import NetworkExtractor, extract
from lineart_jax.style import Style

WEIGHTS = (0.5, 1.0, 2.0)
DETAIL_INK = (0.5, 0.75)  # ink = value below this, for the detail figures
DARK_LUMA, DARK_OPEN, DARK_ERODE = 80, 15, 2
TONE_INK, TONE_MARK = 0.75, 0.9


class Predictions:
  """The model's line art of a set of images per style, each drawn once."""

  def __init__(self, spec: str, max_side: int):
    self.spec, self.max_side, self.extractors, self.cache = spec, max_side, {}, {}

  def __call__(self, name: str, images: list[np.ndarray], style: Style) -> list[np.ndarray]:
    key = (name, style)
    if key not in self.cache:
      if style not in self.extractors:
        self.extractors[style] = NetworkExtractor.from_weights(self.spec, style=style)
      self.cache[key] = [extract(im, self.extractors[style], self.max_side) for im in images]
      print(f"  {name}: {len(images)} images drawn in style {style.describe()}", flush=True)
    return self.cache[key]


def median_width(lines: list[np.ndarray]) -> float:
  return float(np.nanmedian([evaluation.stroke_width(x) for x in lines]))


def dark_regions(rgb: np.ndarray) -> np.ndarray:
  """Inside of the color image's large dark areas (see the module docstring)."""
  dark = (cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) < DARK_LUMA).astype(np.uint8)
  disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (DARK_OPEN, DARK_OPEN))
  dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, disk)
  small = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * DARK_ERODE + 1,) * 2)
  return cv2.erode(dark, small).astype(bool)


def weight_rows(predict, name, images, truths=None) -> dict:
  rows = {}
  for w in WEIGHTS:
    row = {"model": median_width(predict(name, images, Style(line_weight=w)))}
    if truths is not None:
      row["target"] = median_width(truths[w])
    rows[str(w)] = row
  return rows


def blacks_rows(predict, name, colors, targets, dark=None) -> dict:
  rows = {}
  for blacks in ("auto", "ink", "paint"):
    preds = predict(name, colors, Style(blacks=blacks))
    row = evaluation.score(preds, targets)
    if dark is not None:
      inside = sum(int(m.sum()) for m in dark)
      row["ink_in_dark"] = (sum(int(np.sum((p < 0.5) & m)) for p, m in zip(preds, dark))
                            / max(inside, 1))
      row["dark_area"] = inside / sum(m.size for m in dark)
    rows[blacks] = row
  return rows


def real_set(root: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
  """(color images, line art in [0, 1]) of every pair of ``root``."""
  pairs = list(load_pairs(root)[1])
  return ([p["color"] for p in pairs],
          [p["line"].reshape(p["color"].shape[:2]) / 255.0 for p in pairs])


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--checkpoint", required=True, help="a style model (shipped format, a run "
                 "or checkpoint folder)")
  p.add_argument("--emotes", help="pairs for line weight and blacks (red-panda-emotes)")
  p.add_argument("--anime-dev", help="pairs for blacks (anime-dev)")
  p.add_argument("--frames", help="color/ + peers/<name>/ images for tone (anime-frames)")
  p.add_argument("--synthetic", type=int, default=30, help="generator pairs (0 = none)")
  p.add_argument("--size", type=int, default=384, help="side of the synthetic pairs")
  p.add_argument("--max-side", type=int, default=1024)
  p.add_argument("--json", help="write the figures here too")
  args = p.parse_args()
  predict = Predictions(args.checkpoint, args.max_side)
  report: dict = {"checkpoint": args.checkpoint}

  if args.synthetic:
    seed, n = 2027, args.synthetic
    colors = [synthetic.make_pair(seed, i, args.size)[0] for i in range(n)]

    def targets(style):
      return [synthetic.make_pair(seed, i, args.size, style=style)[1] / 255.0 for i in range(n)]

    truths = {w: targets(Style(line_weight=w)) for w in WEIGHTS}
    report["synthetic_weight"] = weight_rows(predict, "synthetic", colors, truths)
    full, outline = predict("synthetic", colors, Style()), predict("synthetic", colors,
                                                                   Style(detail=0.0))
    outline_truth = targets(Style(detail=0.0))
    truth_ink = [t < 0.5 for t in outline_truth]
    truth_outline = sum(int(np.sum(t)) for t in truth_ink)
    rows = {}
    for thr in DETAIL_INK:
      ink_full = sum(int(np.sum(x < thr)) for x in full)
      ink_outline = sum(int(np.sum(x < thr)) for x in outline)
      recall = (sum(evaluation.ink_near(o < thr, t) * np.sum(t) for o, t in zip(outline, truth_ink))
                / max(truth_outline, 1))
      rows[str(thr)] = {"ink_drop": 1 - ink_outline / max(ink_full, 1),
                        "outline_recall": float(recall)}
    truth_full = sum(int(np.sum(x < 0.5)) for x in truths[1.0])
    report["synthetic_detail"] = {"target_ink_drop": 1 - truth_outline / max(truth_full, 1),
                                  "by_ink_threshold": rows}

  if args.emotes:
    colors, lines = real_set(args.emotes)
    report["emotes_weight"] = weight_rows(predict, "emotes", colors)
    report["emotes_weight_target"] = median_width(lines)
    report["emotes_blacks"] = blacks_rows(predict, "emotes", colors, lines)

  if args.anime_dev:
    colors, lines = real_set(args.anime_dev)
    report["anime_dev_blacks"] = blacks_rows(predict, "anime-dev", colors, lines,
                                             [dark_regions(c) for c in colors])

  if args.frames:
    files = sorted(glob.glob(os.path.join(args.frames, "color", "*")))
    colors = [read_color(f) for f in files]
    default = predict("frames", colors, Style())
    dark = predict("frames", colors, Style(tone="dark"))

    def darkness(lines):
      """Median darkness of the line cores: the skeleton of the pixels below TONE_INK."""
      values = np.concatenate([x[evaluation.skeleton(x < TONE_INK)] for x in lines])
      return float(np.median(1 - values)) if values.size else float("nan")

    near = [evaluation.ink_near(d < TONE_MARK, k < TONE_INK) * np.sum(k < TONE_INK)
            for d, k in zip(default, dark)]
    rows = {"default": {"darkness": darkness(default)},
            "dark": {"darkness": darkness(dark),
                     "ink_near_default": float(sum(near) / max(sum(np.sum(k < TONE_INK)
                                                                   for k in dark), 1))}}
    for peer in sorted(glob.glob(os.path.join(args.frames, "peers", "*"))):
      outs = []
      for f in files:
        match = glob.glob(os.path.join(peer, os.path.splitext(os.path.basename(f))[0] + ".*"))
        if match:
          outs.append(read_line(match[0]) / 255.0)
      if outs:
        rows[os.path.basename(peer)] = {"darkness": darkness(outs)}
    report["frames_tone"] = rows

  print_report(report)
  if args.json:
    with open(args.json, "w") as f:
      json.dump(report, f, indent=1)


def print_report(r: dict) -> None:
  print(f"\nstyle controls of {r['checkpoint']}")
  for key, what in (("synthetic_weight", "synthetic"), ("emotes_weight", "emotes")):
    if key in r:
      cells = "  ".join(f"{w}: {row['model']:.2f}" + (f" (target {row['target']:.2f})"
                                                      if "target" in row else "")
                        for w, row in r[key].items())
      print(f"line weight, median stroke width px, {what}: {cells}")
  if "emotes_weight_target" in r:
    print(f"  (emotes' own line layers: {r['emotes_weight_target']:.2f})")
  if "synthetic_detail" in r:
    d = r["synthetic_detail"]
    for thr, row in d["by_ink_threshold"].items():
      print(f"detail 1 -> 0, synthetic, ink < {thr}: ink {-100 * row['ink_drop']:+.0f} % "
            f"(targets {-100 * d['target_ink_drop']:+.0f} %), outline recall "
            f"{row['outline_recall']:.3f}")
  for key, what in (("emotes_blacks", "emotes"), ("anime_dev_blacks", "anime-dev")):
    if key in r:
      for blacks, row in r[key].items():
        extra = (f"  ink in dark areas {100 * row['ink_in_dark']:.1f} % (of "
                 f"{100 * row['dark_area']:.1f} % of the pixels)" if "ink_in_dark" in row else "")
        print(f"blacks {blacks:5s} {what}: PSNR {row['psnr']:.2f} dB  F@2 "
              f"{row['f_score']:.3f}{extra}")
  if "frames_tone" in r:
    for name, row in r["frames_tone"].items():
      extra = (f"  ink within 2 px of the default's marks {100 * row['ink_near_default']:.1f} %"
               if "ink_near_default" in row else "")
      print(f"tone, anime frames, {name}: median darkness of line cores "
            f"{row['darkness']:.3f}{extra}")


if __name__ == "__main__":
  main()
