"""Agreement with a peer extractor on images that have no truth (anime frames).

  python -m lineart_jax.agreement IMAGES REFERENCE [REFERENCE ...]
      [--ours=DIR | --checkpoint=PATH | --pretrained | --method=opencv]
      [--tone=dark --contours=drawn ...] [--threshold=0.5] [--csv=FILE]

For a folder of images and a folder of a reference extractor's outputs (the
same stems; extensions may differ, ``NAME_lineart.*`` counts as ``NAME``), per
image and pooled over all of them.  Our line art is a folder of our own outputs
(``--ours``, e.g. written by ``lineart_jax.infer``) or is drawn here by a model
(``--checkpoint`` / ``--pretrained``, the shipped model by default, with
``infer``'s line-style flags; whole images, no ``--max-side``) or by the OpenCV
method (``--method=opencv``).  Line art is gray in [0, 1], 1 is paper; the
reference's files (often JPEGs) are read as gray and thresholded the same way.

* **ink**: the pixels darker than the threshold (``value < threshold``, default
  0.5), on each side; *ink share* = ink pixels / image pixels, and the **ink
  ratio** = our ink share / the reference's.
* **solid ink**: ink pixels whose Euclidean distance to the nearest non-ink pixel
  of the image is more than ``solid_radius`` (3) px, i.e. every pixel within 3 px
  (a disk of 29 pixels: offsets with dy^2 + dx^2 <= 9) is ink; pixels beyond the
  image border do not count as paper.  A straight stroke up to 6 px wide has
  none (7 px wide: its one-pixel core; where a stroke 5 px wide or more is
  crossed by another: a few pixels of the crossing); a filled area does.  Its share is of the
  image's pixels (not of the ink).  (The 7x7 square instead of the disk would
  count a little less: 28.6 % instead of 30.7 % of the shipped model's
  ``--tone=dark`` output on a dark anime frame full of embers.)
* **recall**: the share of the reference's ink pixels within ``tolerance`` (2) px
  of one of our ink pixels; **precision**: the share of our ink pixels within
  2 px of one of the reference's.  "Within 2 px" is the tolerance of the ink
  F-score (``evaluation.tolerance_disk``: OpenCV's 5x5 elliptical element, 21
  offsets).  Pooled over images as counts (the ``all`` row); NaN where there is
  no ink to take the share of.

* **line polarity** (with the color image): each reference ink pixel is on a
  *dark* line where, within 1 px, the image has a dark line narrower than 7 px
  (its black top-hat of the luma) deeper by 5 luma levels than any bright one
  there, and deeper than 8; on a *bright* line the other way round (rim lights,
  highlight traces); else on *other* edges (a step between flat areas: a cel
  shadow's or a silhouette's boundary with no stroke drawn; a soft edge);
  **bright share** and **other share** = the shares of the reference's ink on
  bright lines and on other edges, **recall dark**, **recall bright** and
  **recall other** = recall on those pixels alone.  On three of the
  dev frames a quarter to a third of AniLines-basic's ink lies on bright lines,
  and on all four a quarter to two fifths on other edges (docs/model_card.md).
* **grid** (ours alone, no threshold): the darkness (1 - value) of each of the
  16 phases of a 4x4 pixel grid (pixels with the same ``(y % 4, x % 4)``), the
  largest over their mean; pooled as the sum of each image's largest over the
  sum of its means.  Line art has no reason to favour a phase, so it is about 1
  (1.05-1.15 on synthetic frames' targets, ``bench/contours.py``); a network
  whose strided decoder draws faint
  lines as rows of dots 4 px apart scores well above (``losses.lattice_energy``).
  Recall and precision within 2 px can't see such dots.

This is **agreement with a peer, never a score against truth**: the reference
is another extractor's guess, and agreement alone is easy to game: an operator
inking every edge in thick bands reaches recall 1.0.  So read recall with
precision, and every claim with the ink ratio (and the solid-ink share, and
the images themselves).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import os
import sys

import cv2
import numpy as np

from lineart_jax.evaluation import TOLERANCE, tolerance_disk

THRESHOLD = 0.5
SOLID_RADIUS = 3
POLARITY_WIDTH = 7  # px: line polarity sorts lines narrower than this
POLARITY_MARGIN = 5.0  # luma levels: one side must beat the other by this much
POLARITY_LEAST = 8.0  # luma levels: and its top-hat must exceed this
SUFFIX = "_lineart"  # lineart_jax.infer's output names: NAME_lineart.png
GRID_PERIOD = 4  # px: the period of the dots (losses.LATTICE_PERIOD)


def ink(lines: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
  """Ink mask of (H, W) line art in [0, 1] (1 is paper): value < threshold."""
  return np.asarray(lines) < threshold


def solid_ink(mask: np.ndarray, radius: int = SOLID_RADIUS) -> np.ndarray:
  """The ink pixels of ``mask`` more than ``radius`` px (Euclidean) from any
  non-ink pixel: erosion by the disk dy^2 + dx^2 <= radius^2; outside the
  image is not paper (OpenCV's erosion border)."""
  yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
  disk = (yy * yy + xx * xx <= radius * radius).astype(np.uint8)
  return cv2.erode(mask.astype(np.uint8), disk).astype(bool)


def grid_phases(lines: np.ndarray, period: int = GRID_PERIOD) -> np.ndarray:
  """(period, period) mean darkness (1 - value) of the pixels of each phase
  ``(y % period, x % period)`` of (H, W) line art in [0, 1]."""
  dark = 1.0 - np.asarray(lines, np.float64)
  return np.array([[dark[a::period, b::period].mean() for b in range(period)]
                   for a in range(period)])


def grid_counts(lines: np.ndarray) -> dict[str, float]:
  """``Counts``' grid fields of one (H, W) line art: the mean darkness of its
  darkest grid phase, and of all its phases."""
  phases = grid_phases(lines)
  return {"grid_top": float(phases.max()), "grid_mean": float(phases.mean())}


def pooled_grid(images) -> float:
  """The grid of several (H, W) line arts, pooled by ``Counts`` as ``agreement``'s
  ``all`` row is: the sum of each one's darkest phase over the sum of its phases' means."""
  return sum((Counts(**grid_counts(image)) for image in images), Counts()).shares()["grid"]


def line_polarity(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(dark, bright) masks of an (H, W, 3) uint8 RGB image: pixels within 1 px of
  a dark or a bright line, narrower than ``POLARITY_WIDTH`` px (a black or white
  top-hat of the luma, so the sides of a step between two flat areas are neither),
  as the module docstring says."""
  luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
  disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (POLARITY_WIDTH, POLARITY_WIDTH))
  square = np.ones((3, 3), np.uint8)
  darker = cv2.dilate(cv2.morphologyEx(luma, cv2.MORPH_CLOSE, disk) - luma, square)
  brighter = cv2.dilate(luma - cv2.morphologyEx(luma, cv2.MORPH_OPEN, disk), square)
  dark = (darker >= brighter + POLARITY_MARGIN) & (darker > POLARITY_LEAST)
  bright = (brighter > darker + POLARITY_MARGIN) & (brighter > POLARITY_LEAST)
  return dark, bright


def _near(mask: np.ndarray, tolerance: int) -> np.ndarray:
  return cv2.dilate(mask.astype(np.uint8), tolerance_disk(tolerance)).astype(bool)


def _share(a: float, b: float) -> float:
  return a / b if b else math.nan


@dataclasses.dataclass
class Counts:
  """Pixel counts of one image or several (``+`` pools them), and the grid's darkness."""
  pixels: int = 0
  ink: int = 0          # our ink
  ref_ink: int = 0      # the reference's ink
  solid: int = 0        # our solid ink
  ref_solid: int = 0
  ref_found: int = 0    # reference ink within the tolerance of ours
  ours_near: int = 0    # our ink within the tolerance of the reference's
  ref_sorted: int = 0   # the reference's ink sorted by line polarity (with the color image)
  ref_dark: int = 0     # of it, on dark lines
  dark_found: int = 0   # those within the tolerance of ours
  ref_bright: int = 0   # the reference's ink on bright lines
  bright_found: int = 0
  ref_other: int = 0    # the reference's ink on neither: other edges
  other_found: int = 0
  grid_top: float = 0.0   # the darkest grid phase's mean darkness (grid_phases), summed
  grid_mean: float = 0.0  # the phases' mean darkness, summed

  def __add__(self, other: "Counts") -> "Counts":
    return Counts(*(a + b for a, b in zip(dataclasses.astuple(self),
                                          dataclasses.astuple(other))))

  def shares(self) -> dict[str, float]:
    """ink, ref_ink, solid, ref_solid (shares of the pixels), ink_ratio, recall,
    precision, bright_share, other_share, recall_dark, recall_bright, recall_other,
    grid (NaN where undefined)."""
    ink_share, ref_share = _share(self.ink, self.pixels), _share(self.ref_ink, self.pixels)
    return {"ink": ink_share, "ref_ink": ref_share,
            "ink_ratio": _share(ink_share, ref_share),
            "solid": _share(self.solid, self.pixels),
            "ref_solid": _share(self.ref_solid, self.pixels),
            "recall": _share(self.ref_found, self.ref_ink),
            "precision": _share(self.ours_near, self.ink),
            "bright_share": _share(self.ref_bright, self.ref_sorted),
            "other_share": _share(self.ref_other, self.ref_sorted),
            "recall_dark": _share(self.dark_found, self.ref_dark),
            "recall_bright": _share(self.bright_found, self.ref_bright),
            "recall_other": _share(self.other_found, self.ref_other),
            "grid": _share(self.grid_top, self.grid_mean)}


def compare(ours: np.ndarray, reference: np.ndarray, threshold: float = THRESHOLD,
            tolerance: int = TOLERANCE, solid_radius: int = SOLID_RADIUS,
            color: np.ndarray | None = None) -> Counts:
  """Counts of our (H, W) line art against a reference's, both in [0, 1];
  ``color`` (the (H, W, 3) uint8 RGB image) adds the line-polarity counts."""
  for name, other in (("the reference", reference), ("the color image", color)):
    if other is not None and other.shape[:2] != ours.shape:
      raise ValueError(f"ours is {ours.shape[1]}x{ours.shape[0]}, {name} "
                       f"{other.shape[1]}x{other.shape[0]}")
  a, b = ink(ours, threshold), ink(reference, threshold)
  found = b & _near(a, tolerance)
  counts = Counts(pixels=a.size, ink=int(a.sum()), ref_ink=int(b.sum()),
                  solid=int(solid_ink(a, solid_radius).sum()),
                  ref_solid=int(solid_ink(b, solid_radius).sum()),
                  ref_found=int(found.sum()),
                  ours_near=int(np.sum(a & _near(b, tolerance))), **grid_counts(ours))
  if color is not None:
    dark, bright = line_polarity(color)
    counts.ref_sorted = counts.ref_ink
    counts.ref_dark, counts.dark_found = int(np.sum(b & dark)), int(np.sum(found & dark))
    counts.ref_bright, counts.bright_found = int(np.sum(b & bright)), int(np.sum(found & bright))
    other = ~(dark | bright)
    counts.ref_other, counts.other_found = int(np.sum(b & other)), int(np.sum(found & other))
  return counts


# -- the command line ----------------------------------------------------------
COLUMNS = ("ink", "ref_ink", "ink_ratio", "solid", "ref_solid", "recall", "precision",
           "bright_share", "other_share", "recall_dark", "recall_bright", "recall_other", "grid")


def find(folder: str, stem: str) -> str | None:
  """The image of ``folder`` named ``stem`` or ``stem_lineart``, any extension."""
  from lineart_jax.data.imageio import IMAGE_EXTENSIONS
  for name in (stem, stem + SUFFIX):
    for ext in IMAGE_EXTENSIONS:
      for e in (ext, ext.upper()):
        if os.path.isfile(os.path.join(folder, name + e)):
          return os.path.join(folder, name + e)
  return None


def format_table(reference: str, rows: list[tuple[str, Counts]], what: str) -> str:
  head = (f"reference {reference}: agreement with a peer, not a score against truth\n"
          f"  ours: {what}\n"
          f"{'image':12s} {'ink %':>7s} {'ref ink %':>9s} {'ratio':>6s} {'solid %':>7s} "
          f"{'ref solid %':>11s} {'recall':>6s} {'precision':>9s} {'bright %':>8s} "
          f"{'other %':>7s} {'R dark':>6s} {'R bright':>8s} {'R other':>7s} {'grid':>5s}")
  lines = [head]
  for name, counts in rows + [("all", sum((c for _, c in rows), Counts()))]:
    s = counts.shares()
    lines.append(f"{name:12s} {100 * s['ink']:7.2f} {100 * s['ref_ink']:9.2f} "
                 f"{s['ink_ratio']:6.2f} {100 * s['solid']:7.2f} {100 * s['ref_solid']:11.2f} "
                 f"{s['recall']:6.3f} {s['precision']:9.3f} {100 * s['bright_share']:8.1f} "
                 f"{100 * s['other_share']:7.1f} {s['recall_dark']:6.3f} "
                 f"{s['recall_bright']:8.3f} {s['recall_other']:7.3f} {s['grid']:5.2f}")
  return "\n".join(lines)


def main(argv=None) -> int:
  from lineart_jax import style as style_lib
  p = argparse.ArgumentParser(
      description="Agreement of our line art with a peer extractor's outputs (not a score "
      "against truth): ink share and its ratio to the peer's, solid ink, recall and precision "
      "within a tolerance; and how much ours favours a phase of the 4x4 pixel grid.")
  p.add_argument("images", help="folder of the images (color)")
  p.add_argument("references", nargs="+", help="folder(s) of a reference extractor's outputs, "
                 "same stems (any image extension)")
  src = p.add_mutually_exclusive_group()
  src.add_argument("--ours", help="folder of our own outputs (NAME.* or NAME_lineart.*) "
                   "instead of running a model")
  src.add_argument("--checkpoint", help="weights to run (as infer's --checkpoint)")
  src.add_argument("--pretrained", action="store_true", help="the shipped model (the default)")
  p.add_argument("--method", choices=["network", "opencv"], default="network",
                 help="opencv: the OpenCV dilate-and-subtract method instead of a model")
  p.add_argument("--threshold", type=float, default=THRESHOLD,
                 help="ink = value below this, on both sides (default 0.5)")
  p.add_argument("--tolerance", type=int, default=TOLERANCE, help="px, for recall and precision")
  p.add_argument("--solid-radius", type=int, default=SOLID_RADIUS,
                 help="solid ink: ink more than this many px inside an ink area")
  p.add_argument("--csv", help="write the per-image and pooled figures here")
  p.add_argument("--tile", type=int, default=768, help="tile side for the model")
  style_lib.add_arguments(p)
  args = p.parse_args(argv)
  try:
    style = style_lib.from_arguments(args)
  except ValueError as e:
    p.error(str(e))
  if (args.ours or args.method == "opencv") and not style.is_default:
    p.error("the line-style flags are for a model run here, not for --ours or --method=opencv")
  if args.method == "opencv" and (args.ours or args.checkpoint or args.pretrained):
    p.error("--method=opencv runs the OpenCV method: no --ours, --checkpoint or --pretrained")
  for folder in [args.images, *args.references] + ([args.ours] if args.ours else []):
    if not os.path.isdir(folder):
      p.error(f"{folder}: not a folder")

  from lineart_jax.data.imageio import IMAGE_EXTENSIONS, ImageError, read_color, read_line
  from lineart_jax.infer import NetworkExtractor, extract

  extractor, what = None, "the OpenCV method"
  if args.ours:
    what = f"the outputs in {args.ours}"
  elif args.method == "network":
    from lineart_jax.pretrained import PRETRAINED
    try:
      extractor = NetworkExtractor.from_weights(args.checkpoint or PRETRAINED, tile=args.tile,
                                                style=style)
    except (FileNotFoundError, ValueError) as e:
      print(f"error: {e}", file=sys.stderr)
      return 2
    what = extractor.description
  what += f"; ink = value < {args.threshold:g} on both sides, recall/precision within " \
          f"{args.tolerance} px, solid = ink more than {args.solid_radius} px inside ink"

  images = {os.path.splitext(f)[0]: os.path.join(args.images, f)
            for f in sorted(os.listdir(args.images))
            if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS}
  rows: dict[str, list[tuple[str, Counts]]] = {r: [] for r in args.references}
  failed = 0
  for stem, image_path in sorted(images.items()):
    refs = {r: find(r, stem) for r in args.references}
    if not any(refs.values()):
      print(f"skipped {stem}: no reference output", file=sys.stderr)
      continue
    try:
      color = read_color(image_path)  # line polarity, and the model's input
      if args.ours:
        path = find(args.ours, stem)
        if path is None:
          raise ImageError(f"{stem}: not in {args.ours}")
        lines = read_line(path).astype(np.float32) / 255.0
      else:
        lines = extract(color, extractor, None, stem)
      for r, ref_path in refs.items():
        if ref_path is None:
          print(f"skipped {stem} for {r}: no reference output", file=sys.stderr)
          continue
        reference = read_line(ref_path).astype(np.float32) / 255.0
        try:
          rows[r].append((stem, compare(lines, reference, args.threshold, args.tolerance,
                                        args.solid_radius, color)))
        except ValueError as e:
          raise ImageError(f"{stem} against {ref_path}: {e}") from e
    except (ImageError, OSError) as e:
      failed += 1
      print(f"error: {e}", file=sys.stderr)
  if not any(rows.values()):
    print("error: no image with a reference output", file=sys.stderr)
    return 2
  for r, r_rows in rows.items():
    print(format_table(r, r_rows, what) + "\n")
  if args.csv:
    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    with open(args.csv, "w", newline="", encoding="utf-8") as f:
      writer = csv.writer(f)
      writer.writerow(("reference", "image", "pixels") + COLUMNS)
      for r, r_rows in rows.items():
        for name, counts in r_rows + [("all", sum((c for _, c in r_rows), Counts()))]:
          s = counts.shares()
          writer.writerow([r, name, counts.pixels] + [f"{s[k]:.6g}" for k in COLUMNS])
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
