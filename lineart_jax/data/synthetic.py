"""Procedural anime-style illustrations and their exact line art.

The built-in dataset, used when no data root is configured, so that a fresh
install trains with no data at all.  Each pair is drawn from (seed, index) alone:

* line art: closed smooth shapes (outlines) and open tapered strokes, in dark
  ink, anti-aliased, of varied widths; later shapes occlude earlier lines;
* the colored version of the same drawing: flat region fills, cel shadows
  (hard-edged darker regions that are NOT lines) and highlights, gradients,
  textured or blurred backgrounds, solid black areas, and some lines in colored
  ink or in a color close to their fill (the hard cases the seed lists).

Both are drawn with the same OpenCV calls and geometry, so they are exactly
aligned.  CLI: ``python -m lineart_jax.data.synthetic OUT --count N`` writes N
pairs in the dataset layout (``OUT/color/*.png``, ``OUT/line/*.png``).
"""

from __future__ import annotations

import argparse
import os

import cv2
import numpy as np

SHIFT = 4  # fixed-point bits for sub-pixel OpenCV drawing
ONE = 1 << SHIFT


def _rgb(rng, lo=0, hi=255) -> np.ndarray:
  return rng.integers(lo, hi + 1, 3).astype(np.float32)


def _background(rng, size: int) -> np.ndarray:
  kind = rng.integers(3)
  if kind == 0:  # flat pale color
    return np.broadcast_to(_rgb(rng, 150, 255), (size, size, 3)).copy()
  if kind == 1:  # linear gradient
    a, b = _rgb(rng, 60, 255), _rgb(rng, 60, 255)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.clip(0.5 + (xx - 0.5) * np.cos(theta) + (yy - 0.5) * np.sin(theta), 0, 1)
    return a + (b - a) * t[..., None]
  # textured / blurred: low-resolution noise, upsampled and blurred
  cells = int(rng.integers(4, 24))
  noise = rng.uniform(40, 255, (cells, cells, 3)).astype(np.float32)
  tex = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
  return cv2.GaussianBlur(tex, (0, 0), float(rng.uniform(1, 6)))


def _blob(rng, size: int) -> np.ndarray:
  """A smooth closed outline: polar radius with a few random harmonics."""
  center = rng.uniform(0.1, 0.9, 2) * size
  radius = rng.uniform(0.06, 0.3) * size
  aspect = rng.uniform(0.5, 1.5)
  theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
  r = np.ones_like(theta)
  for k in range(2, 5):
    r += rng.uniform(0, 0.25 / k) * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
  rot = rng.uniform(0, np.pi)
  x, y = radius * r * np.cos(theta) * aspect, radius * r * np.sin(theta)
  pts = np.stack([x * np.cos(rot) - y * np.sin(rot), x * np.sin(rot) + y * np.cos(rot)], 1)
  return pts + center


def _curve(rng, size: int) -> np.ndarray:
  """An open cubic Bezier stroke."""
  start = rng.uniform(0, 1, 2) * size
  ctrl = start + rng.normal(0, 0.25, (3, 2)) * size
  p = np.concatenate([start[None], ctrl])
  t = np.linspace(0, 1, 48)[:, None]
  return ((1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t ** 2 * p[2]
          + t ** 3 * p[3])


def _fixed(pts: np.ndarray) -> np.ndarray:
  return np.round(pts * ONE).astype(np.int32)


def _fill(canvas: np.ndarray, pts: np.ndarray, value) -> None:
  cv2.fillPoly(canvas, [_fixed(pts)], value, cv2.LINE_AA, SHIFT)


def _stroke(color: np.ndarray, line: np.ndarray, pts: np.ndarray, closed: bool,
            width: float, ink_rgb, ink_gray: int, taper: bool) -> None:
  """Draws one stroke into both images with the same geometry."""
  if not taper:
    w = max(1, int(round(width)))
    cv2.polylines(color, [_fixed(pts)], closed, ink_rgb, w, cv2.LINE_AA, SHIFT)
    cv2.polylines(line, [_fixed(pts)], closed, int(ink_gray), w, cv2.LINE_AA, SHIFT)
    return
  n = len(pts) - 1
  for i in range(n):  # thick in the middle, thin at both ends
    w = max(1, int(round(width * np.sin(np.pi * (i + 0.5) / n) + 0.3)))
    seg = _fixed(pts[i:i + 2])
    cv2.line(color, tuple(seg[0]), tuple(seg[1]), ink_rgb, w, cv2.LINE_AA, SHIFT)
    cv2.line(line, tuple(seg[0]), tuple(seg[1]), int(ink_gray), w, cv2.LINE_AA, SHIFT)


def make_pair(seed: int, index: int, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
  """The pair (color (S, S, 3) uint8 RGB, line (S, S) uint8) for (seed, index)."""
  rng = np.random.default_rng([seed, index])
  color = np.clip(_background(rng, size), 0, 255).astype(np.uint8)
  line = np.full((size, size), 255, np.uint8)
  for _ in range(int(rng.integers(3, 9))):
    pts = _blob(rng, size)
    black = rng.uniform() < 0.12
    fill = np.array([20, 18, 26], np.float32) if black else _rgb(rng, 40, 255)
    mask = np.zeros((size, size), np.uint8)
    _fill(mask, pts, 255)
    region = mask > 127
    if rng.uniform() < 0.3 and not black:  # gradient inside the region
      yy = np.linspace(1.1, 0.8, size, dtype=np.float32)[:, None, None]
      shade = np.clip(fill * yy, 0, 255)
      color[region] = np.broadcast_to(shade, (size, size, 3))[region].astype(np.uint8)
    else:
      color[region] = fill.astype(np.uint8)
    line[region] = 255  # this shape hides the lines it covers
    if not black and rng.uniform() < 0.8:  # cel shadow: the shape minus a shifted copy
      shifted = np.zeros_like(mask)
      _fill(shifted, pts + rng.normal(0, 0.12, 2) * size, 255)
      shadow = region & (shifted < 128)
      tint = np.array([0.62, 0.6, 0.75], np.float32) * rng.uniform(0.75, 1.0)
      color[shadow] = np.clip(fill * tint, 0, 255).astype(np.uint8)
    if not black and rng.uniform() < 0.5:  # highlight: a small lighter ellipse
      c = pts.mean(0) + rng.normal(0, 0.03, 2) * size
      axes = (rng.uniform(0.01, 0.05, 2) * size * ONE).astype(int)
      light = tuple(float(v) for v in np.clip(fill * 1.35 + 40, 0, 255))
      cv2.ellipse(color, tuple(_fixed(c)), tuple(axes), float(rng.uniform(0, 180)), 0, 360,
                  light, -1, cv2.LINE_AA, SHIFT)
    if rng.uniform() < 0.9:  # outline
      ink_rgb, ink_gray = _ink(rng, fill)
      _stroke(color, line, pts, True, rng.uniform(1, 3.5), ink_rgb, ink_gray, taper=False)
  for _ in range(int(rng.integers(2, 9))):  # open, tapered strokes (hair, folds)
    ink_rgb, ink_gray = _ink(rng, _rgb(rng))
    _stroke(color, line, _curve(rng, size), False, rng.uniform(1.5, 4.5), ink_rgb, ink_gray,
            taper=True)
  return color, line


def _ink(rng, fill: np.ndarray) -> tuple[tuple[float, ...], int]:
  """(RGB ink in the color image, gray ink in the line art)."""
  gray = int(rng.integers(0, 50))
  u = rng.uniform()
  if u < 0.7:
    rgb = np.full(3, gray, np.float32)
  elif u < 0.85:  # colored ink: a darker version of the fill
    rgb = fill * rng.uniform(0.3, 0.6)
  else:  # ink close to the fill color: a faint line in the color image
    rgb = np.clip(fill * rng.uniform(0.8, 0.95), 0, 255)
  return tuple(float(v) for v in rgb), gray


class SyntheticSource:
  """A random-access source of synthetic pairs (Grain ``MapDataset.source``)."""

  def __init__(self, seed: int = 0, size: int = 256, length: int = 1_000_000):
    self.seed, self.size, self.length = seed, size, length

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    color, line = make_pair(self.seed, int(index), self.size)
    return {"color": color, "line": line}

  def __repr__(self) -> str:
    return f"SyntheticSource(seed={self.seed}, size={self.size}, length={self.length})"


def write_dataset(out: str, count: int, seed: int = 0, size: int = 256, start: int = 0) -> None:
  """Writes ``count`` pairs as ``out/color/NNNNNN.png`` and ``out/line/NNNNNN.png``."""
  from lineart_jax.data.imageio import write_png
  for i in range(start, start + count):
    color, line = make_pair(seed, i, size)
    write_png(os.path.join(out, "color", f"{i:06d}.png"), color)
    write_png(os.path.join(out, "line", f"{i:06d}.png"), line)


def main(argv=None):
  p = argparse.ArgumentParser(description="Write synthetic (color, line) pairs in the "
                              "dataset layout OUT/color, OUT/line.")
  p.add_argument("out")
  p.add_argument("--count", type=int, default=100)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--size", type=int, default=256)
  p.add_argument("--start", type=int, default=0, help="index of the first pair")
  args = p.parse_args(argv)
  write_dataset(args.out, args.count, args.seed, args.size, args.start)
  print(f"wrote {args.count} pairs to {args.out}/color and {args.out}/line")


if __name__ == "__main__":
  main()
