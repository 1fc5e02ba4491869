"""CLI: check every (color, line) pair before training, and fix what can be fixed.

  python -m lineart_jax.data.validate ROOT_OR_MANIFEST [--out DIR] [--fix]

A pair only trains when both images have the same aspect ratio and are pixel
aligned; the seed's author found slightly shifted pairs by hand because they
stop training from converging.  For each pair this reports one status:

  ok          same size, aligned within ``--max-shift-ok`` (1 px)
  unreadable  a file is missing, truncated, not an image, or absurdly large
  aspect      aspect ratios differ (cannot be fixed by resizing)
  size        same aspect, different sizes: fixable (both resized to the smaller,
              INTER_AREA)
  gray-paper  the line art's paper (its 90th-percentile level) is darker than the
              loss's paper threshold (0.95): usable, but ``prepare --paper-level``
              should whiten it, or every paper pixel is weighted as a dark area
  unpaired    a color image with no line image of the same stem, or the reverse
              (a dataset root only)
  shifted     the line art is offset from the color image's edges by more than
              1 px (phase correlation of their edge maps); up to ``--max-fix``
              px it is fixable (the line art is translated back)

It writes ``DIR/report.tsv`` (every pair, status, detail) and
``DIR/manifest.tsv`` (the usable pairs: ok ones, plus fixed copies under
``DIR/fixed/`` when ``--fix`` is given).  ``prepare`` packs that manifest.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import zlib

import cv2
import numpy as np

from lineart_jax.data.imageio import ImageError, read_color, read_line, write_png
from lineart_jax.data.pairs import Pair, find_pairs, pairs_from_root, write_manifest
from lineart_jax.losses import WHITE as PAPER_WHITE
from tqdm import tqdm

# Alignment is estimated at most at this resolution (long side), for speed.
ANALYSIS_SIDE = 1024
# Statuses whose pairs go into the manifest as they are.
USABLE = ("ok", "gray-paper")


def paper_level(line: np.ndarray) -> float:
  """The paper's level in [0, 1] of a uint8 line image: its 90th percentile
  (line art is mostly paper, so this is a paper pixel)."""
  return float(np.percentile(line, 90)) / 255.0


def whiten_paper(line: np.ndarray, level: float) -> np.ndarray:
  """uint8 line art with ``level`` (and above) mapped to white, ink kept:
  ``v -> min(1, v / level)``."""
  scaled = line.astype(np.float32) * (1.0 / max(level, 1e-3))
  return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


@dataclasses.dataclass
class Result:
  pair: Pair
  status: str
  detail: str = ""
  shift: tuple[float, float] = (0.0, 0.0)  # (dx, dy) of the line art, full-res px
  fixable: bool = False


def edge_map(gray: np.ndarray) -> np.ndarray:
  g = gray.astype(np.float32)
  gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
  gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
  return cv2.magnitude(gx, gy)


def estimate_shift(color: np.ndarray, line: np.ndarray) -> tuple[float, float]:
  """(dx, dy) such that the line art ~ the color image's edges moved by (dx, dy)."""
  h, w = line.shape
  f = min(1.0, ANALYSIS_SIDE / max(h, w))
  gray = cv2.cvtColor(color, cv2.COLOR_RGB2GRAY)
  if f < 1.0:
    size = (max(8, round(w * f)), max(8, round(h * f)))
    gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    line = cv2.resize(line, size, interpolation=cv2.INTER_AREA)
  a, b = edge_map(gray), edge_map(line)
  window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
  (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
  return dx / f, dy / f


def check_pair(pair: Pair, max_shift_ok: float = 1.0, max_fix: float = 16.0
               ) -> tuple[Result, np.ndarray | None, np.ndarray | None]:
  """The pair's Result, and its (color, line) at a common size when readable."""
  try:
    color, line = read_color(pair.color), read_line(pair.line)
  except ImageError as e:
    return Result(pair, "unreadable", str(e)), None, None
  (hc, wc), (hl, wl) = color.shape[:2], line.shape
  # Same aspect: the line's height predicted from the color's aspect is within a pixel.
  if abs(hc * wl / wc - hl) > 1.0 and abs(hl * wc / wl - hc) > 1.0:
    return Result(pair, "aspect", f"color {wc}x{hc} vs line {wl}x{hl}"), None, None
  status, detail = "ok", ""
  if (hc, wc) != (hl, wl):
    status, detail = "size", f"color {wc}x{hc} vs line {wl}x{hl}: both resized to the smaller"
    h, w = min(hc, hl), min(wc, wl)
    if (hc, wc) != (h, w):
      color = cv2.resize(color, (w, h), interpolation=cv2.INTER_AREA)
    if (hl, wl) != (h, w):
      line = cv2.resize(line, (w, h), interpolation=cv2.INTER_AREA)
  paper = paper_level(line)
  if status == "ok" and paper < PAPER_WHITE:
    status, detail = "gray-paper", (f"paper at {paper:.2f} (< {PAPER_WHITE}): use prepare "
                                    "--paper-level auto")
  dx, dy = estimate_shift(color, line)
  result = Result(pair, status, detail, (dx, dy), fixable=status == "size")
  if max(abs(dx), abs(dy)) > max_shift_ok:
    result.status = "shifted"
    result.fixable = max(abs(dx), abs(dy)) <= max_fix
    result.detail = "; ".join(filter(None, [detail, (
        f"line art offset by ({dx:+.1f}, {dy:+.1f}) px from the color image"
        + ("" if result.fixable else f": over --max-fix {max_fix:g}, not fixable"))]))
  return result, color, line


def fix_pair(result: Result, color: np.ndarray, line: np.ndarray, out: str) -> Pair:
  """Writes the fixed pair under ``out/fixed`` and returns it."""
  dx, dy = result.shift if result.status == "shifted" else (0.0, 0.0)
  if dx or dy:
    m = np.float32([[1, 0, -dx], [0, 1, -dy]])
    line = cv2.warpAffine(line, m, line.shape[::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)
  stem = os.path.splitext(os.path.basename(result.pair.color))[0]
  key = f"{zlib.crc32((result.pair.color + result.pair.line).encode()):08x}_{stem}"
  fixed = Pair(os.path.join(out, "fixed", "color", key + ".png"),
               os.path.join(out, "fixed", "line", key + ".png"))
  write_png(fixed.color, color)
  write_png(fixed.line, line)
  return fixed


def validate(source: str, out: str, fix: bool = False, max_shift_ok: float = 1.0,
             max_fix: float = 16.0, show_progress: bool = True) -> list[Result]:
  """Checks every pair of ``source``; writes report.tsv and manifest.tsv in ``out``."""
  unpaired: list[str] = []
  if os.path.isdir(source):
    pairs, unpaired = pairs_from_root(source)
  else:
    pairs = find_pairs(source)
  os.makedirs(out, exist_ok=True)
  results, clean = [], []
  items = tqdm(pairs, "validating") if show_progress else pairs
  for pair in items:
    result, color, line = check_pair(pair, max_shift_ok, max_fix)
    results.append(result)
    if result.status in USABLE:
      clean.append(pair)
    elif fix and result.fixable:
      clean.append(fix_pair(result, color, line, out))
      result.detail += " [fixed]"
  for path in unpaired:
    side = "line" if path.startswith(os.path.join(source, "line") + os.sep) else "color"
    other = "color" if side == "line" else "line"
    pair = Pair(path, "") if side == "color" else Pair("", path)
    results.append(Result(pair, "unpaired", f"{side} image with no {other} image of the "
                          "same name"))
  with open(os.path.join(out, "report.tsv"), "w", encoding="utf-8") as f:
    f.write("status\tcolor\tline\tdetail\n")
    for r in results:
      f.write(f"{r.status}\t{r.pair.color}\t{r.pair.line}\t{r.detail}\n")
  write_manifest(os.path.join(out, "manifest.tsv"), clean)
  return results


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description="Validate (color, line) pairs; write a report "
                              "and a clean manifest.")
  p.add_argument("source", help="dataset root (color/, line/) or a manifest.tsv")
  p.add_argument("--out", help="output folder (default: SOURCE_validated)")
  p.add_argument("--fix", action="store_true",
                 help="write resized/shift-corrected copies of fixable pairs")
  p.add_argument("--max-shift-ok", type=float, default=1.0)
  p.add_argument("--max-fix", type=float, default=16.0)
  args = p.parse_args(argv)
  out = args.out or os.path.normpath(args.source).rstrip(os.sep) + "_validated"
  results = validate(args.source, out, args.fix, args.max_shift_ok, args.max_fix)
  counts: dict[str, int] = {}
  for r in results:
    counts[r.status] = counts.get(r.status, 0) + 1
    if r.status != "ok":
      print(f"{r.status:10s} {r.pair.color} | {r.pair.line}: {r.detail}")
  usable = sum(1 for r in results if r.status in USABLE or (args.fix and r.fixable))
  print(f"{len(results)} pairs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        + f"; {usable} usable -> {os.path.join(out, 'manifest.tsv')}")
  if not args.fix and any(r.fixable for r in results):
    print("some pairs are fixable: re-run with --fix")
  return 0 if usable else 1


if __name__ == "__main__":
  sys.exit(main())
