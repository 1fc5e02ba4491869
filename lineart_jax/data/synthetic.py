"""Procedural drawn-and-colored illustrations and their exact line art.

The built-in dataset: a fresh install trains with no data, and the shipped model
(``configs/pretrained.py``) is trained on it alone.  Each pair is a function of
(seed, index) only.  What it draws is what real illustrations have and simpler
generators lack (each was a failure of a model trained without it):

* **line weights, tones and media**: anti-aliased hairlines (0.5 px), even
  technical-pen lines, pressure-tapered brush strokes up to 12 px, flat
  near-black ink areas (pupils, sunglasses, accents) that belong to the line art,
  sketchy pencil lines (gray, grainy, several offset passes), light and tinted
  ink (gray in the target), thin lines in a darker shade of the fill beside them
  (as dark as their tone in the target; a wide stroke in that shade is shading);
* **structure**: closed shapes filled like a paint bucket (later shapes hide the
  lines they cover), some color boundaries with no line, short fold strokes
  inside regions, hair as bundles of long thin curves ending in points, frills
  (scalloped edges with a fold into each scallop), many small shapes;
* **coloring that is not line art**: cel shadows, soft airbrush shading,
  highlights, painted streaks (as wide as a brush line at the root) and wide
  soft shadow bands along hair (as dark as a line: a colorist's), blush
  hatching, sparkles, dark and black fills with lines inside (black leggings,
  black hair: large, and paint; small flat black areas are always ink, as
  pupils are), deep hued fills at any size (dark red ribbons) and narrow
  tapered spikes painted in a hue (hair tips, ribbon ends), white/near-white
  backgrounds as well as black or dark ones and busy,
  textured ones with no lines; fills painted as a colorist or a colorization
  network leaves them (bleeding across boundaries, broad or blotchy texture,
  speckle in dark areas) under lines laid on top in Normal or Multiply mode, now
  and then faint;
* **degradations of the color image only**: resampling blur (half the pairs,
  as soft as a colorization network's output) and JPEG (quality 60-95).

The target is line art as an artist draws it: anti-aliased, ink on white paper
(pencil lines stay gray), less what the color image does not show: a line that
changes it by under ``VISIBLE`` luma levels (black ink on black paint, a line
painted over) fades from the target.  Everything is drawn at twice the size and
reduced with INTER_AREA, which gives sub-pixel widths and true anti-aliasing;
color and line share every stroke's coverage mask, so they are exactly aligned.

CLI: ``python -m lineart_jax.data.synthetic OUT --count N [--workers K]`` writes
N pairs in the dataset layout (``OUT/color/*.png``, ``OUT/line/*.png``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import multiprocessing
import os

import cv2
import numpy as np

from lineart_jax.style import Style, sample as sample_style

SHIFT = 4  # fixed-point bits for sub-pixel OpenCV drawing
ONE = 1 << SHIFT
SUPERSAMPLE = 2  # drawn at this multiple of the output size, then INTER_AREA-reduced
SMALL_MARK = 0.06  # a shape smaller than this radius (of the image side) is a detail mark
LARGE_PAINT = 0.1  # black paint is at least this radius (of the image side); smaller is ink
# An ink spot's area is at most a disk's of this radius (of the image side).  Black
# paint of radius LARGE_PAINT, squashed to half its width, has twice that area, so
# the two sizes never meet and inked black is told from painted black by what shows.
INK_SPOT_LARGEST = 0.05
VISIBLE = (3.0, 12.0)  # luma levels: a line changing the color image less is faded, more kept
COLORED_WIDEST = 3.0  # px: lines in a darker shade of the fill are at most this wide
LIGHT_TRACE_SHADE = (0.5, 0.85)  # a light trace line's luminance, x the fill's (light_traces)
# A bright trace line (bright_traces: rim lights, highlight traces) is the fill mixed this
# far toward a light tint, and stands at least BRIGHT_TRACE_VISIBLE luma levels above it.
BRIGHT_TRACE_MIX = (0.45, 0.9)
BRIGHT_TRACE_VISIBLE = 40.0
SOFT_FRAMES = 0.35  # the share of traced frames given a soft blur (FrameKind.soft_frames)
WIDEST_BRUSH = 12.0  # px: Pen's widest line
OUTLINE_WIDTH = 1.5  # px: the outline of a black spot that style blacks=paint leaves
CONTOUR_DE = (6.0, 14.0)  # CIELAB distance across a flat boundary: no contour below, full above
CONTOUR_GRAY = 20.0  # the tone of a contour with no drawn stroke (contours=all)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
STYLE_STREAM = 1  # third entry of the seed of a pair's style choices: (seed, index, 1)
FRAME_STREAM = 3  # (seed, index, 3): whether a pair is an anime frame (``make_pair``)
# What a pair shows (``make_pair``'s ``info``): a drawing, or an anime frame's scene
# (``_frame_scene``; a night sky may have clutter, a city at night is a night sky too).
SCENES = ("drawing", "night sky", "city at night", "city", "graphics", "floor", "background")


@dataclasses.dataclass(frozen=True)
class FrameKind:
  """How ``make_pair`` draws its anime frames, made once (the CLI, a bench) and
  passed whole: the default is the untraced frames of issue 41's first stage.

  ``traced``: traced cels (docs/model_card.md): figures in most frames, drawn with
  thin lines of one tone (``Pen._traced_lines``) and drawn hair strands, a soft
  blur in some.  With ``traced`` only: ``light_traces``, the share of the colored
  lines drawn in a light shade of the fill (``LIGHT_TRACE_SHADE``; real frames
  draw many); ``bright_traces``, the share of thin lines drawn brighter than a
  fill dark enough for that to show (rim lights, highlight traces;
  ``_bright_trace``); ``soft_frames``, the share of frames given the soft blur.
  Each is a drawn line in the line art all the same, and the defaults leave every
  pair as it was before the share existed.
  """
  traced: bool = False
  light_traces: float = 0.0
  bright_traces: float = 0.0
  soft_frames: float = SOFT_FRAMES

  def __post_init__(self):
    for name in ("light_traces", "bright_traces", "soft_frames"):
      value = getattr(self, name)
      if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name.replace('_', '-')} must be a fraction in [0, 1], not {value}")
      if not self.traced and value != getattr(FrameKind, name):
        raise ValueError(f"{name.replace('_', '-')} draws traced frames only: set traced "
                         "(--traced)")


def _rgb(rng, lo=0, hi=255) -> np.ndarray:
  return rng.integers(lo, hi + 1, 3).astype(np.float32)


def _dark_rgb(rng, hi: float, tint: int) -> np.ndarray:
  """Black to dark (a gray level in [0, hi)), tinted by up to ``tint`` per channel."""
  return float(rng.uniform(0, hi)) + _rgb(rng, 0, tint)


def _deep_rgb(rng) -> np.ndarray:
  """A deep, clearly hued color (dark red, brown, navy, forest green): as dark as
  ink by luminance, but paint; colorists fill ribbons, hair and clothing with it.
  Its brightest channel stays at 96 or more, so that its cel shadow (down to 0.42
  of it) is not black: small black areas are ink (``_ink_spot``)."""
  hue = rng.uniform(0, 1, 3)
  hue = (hue - hue.min()) / max(float(hue.max() - hue.min()), 1e-6)  # chroma 1
  value, saturation = rng.uniform(96, 150), rng.uniform(0.45, 0.95)
  return (value * (1.0 - saturation + saturation * hue)).astype(np.float32)


def _fixed(pts: np.ndarray) -> np.ndarray:
  return np.round(pts * ONE).astype(np.int32)


class Canvas:
  """The color image and its line art, drawn together at ``SUPERSAMPLE`` x size."""

  def __init__(self, rng: np.random.Generator, size: int, style: Style | None = None,
               style_rng: np.random.Generator | None = None):
    self.rng, self.size, self.s = rng, size * SUPERSAMPLE, float(SUPERSAMPLE)
    self.color = np.zeros((self.size, self.size, 3), np.float32)  # fills, shading, effects
    self.ink_rgb = np.zeros((self.size, self.size, 3), np.float32)  # the lines' own layer
    self.ink_alpha = np.zeros((self.size, self.size), np.float32)
    self.line = np.full((self.size, self.size), 255.0, np.float32)
    # The flat regions alone (fills, cel shadows, highlights, CG shapes), without
    # soft shading, texture or effects: their boundaries are the contours that
    # style contours=all adds to the line art.
    self.flat = np.zeros((self.size, self.size, 3), np.float32)
    # What lies over the finished image (lines included): glows, night tints,
    # letterbox bars; ``overlay``.
    self.overlays: list[tuple[str, np.ndarray, np.ndarray]] = []
    # The line style of the target (``lineart_jax.style``).  It changes the line
    # art only: every draw from ``rng`` is the same whatever the style, so the
    # color image is too; the style's own random choices (which detail strokes
    # to drop) come from ``style_rng``.
    self.style = Style() if style is None else style
    self.style_rng = style_rng if style_rng is not None else np.random.default_rng(0)
    # Line-art-only marks that no visibility fading applies to (black fills drawn
    # as ink, outlines of black areas left as paint); multiplies ``line``.
    self.solid: np.ndarray | None = None
    # A traced anime frame (``FrameKind.traced``): its hair strands are
    # drawn lines, where a drawing's colorist paints streaks.
    self.traced = False
    # What the image shows (``SCENES``; ``make_pair``'s ``info``): a bench scores
    # each kind of scene apart, to say where a model's misses lie.
    self.scene = "drawing"

  # -- coverage masks --------------------------------------------------------
  def region(self, pts: np.ndarray) -> np.ndarray:
    """Float [0, 1] coverage of the closed polygon ``pts`` (output pixels)."""
    mask = np.zeros((self.size, self.size), np.uint8)
    cv2.fillPoly(mask, [_fixed(pts * self.s)], 255, cv2.LINE_AA, SHIFT)
    return mask.astype(np.float32) / 255.0

  def stroke_mask(self, pts: np.ndarray, widths: np.ndarray, margin: float = 0.0,
                  reach: float | None = None) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Coverage of a polyline with per-vertex ``widths`` (output pixels).

    Returns the coverage inside its bounding box and the box's slices: a stroke
    touches a small part of the canvas, and blending only there keeps the
    generator fast.  ``margin`` (output px) widens the box, room for a blur;
    ``reach`` is the widest width the box allows for (default: ``max(widths)``),
    so that a stroke and its re-weighted copy in the line art share one box.
    """
    fixed = _fixed(pts * self.s)
    reach = float(np.max(widths)) if reach is None else reach
    pad = int(np.ceil((reach + margin) * self.s)) + 2
    lo = np.clip(np.floor(pts.min(0) * self.s).astype(int) - pad, 0, self.size)
    hi = np.clip(np.ceil(pts.max(0) * self.s).astype(int) + pad, 0, self.size)
    box = (slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
    fixed = fixed - (lo * ONE).astype(np.int32)
    for i in range(len(pts) - 1 if mask.size else 0):  # empty: entirely off the canvas
      w = 0.5 * (widths[i] + widths[i + 1]) * self.s
      if w < 0.35:
        continue
      cv2.line(mask, tuple(fixed[i]), tuple(fixed[i + 1]), 255, max(1, int(round(w))),
               cv2.LINE_AA, SHIFT)
    return mask.astype(np.float32) / 255.0, box

  # -- painting --------------------------------------------------------------
  def paint(self, alpha: np.ndarray, rgb, box=None, flat: bool = True) -> None:
    """Paints the color image only (fills, shading, effects), inside ``box``.

    Without a box, a full-canvas ``alpha`` is blended only over the rows and
    columns it covers (most shapes are small): the same result, several times
    faster.  ``flat``: a hard-edged region of one color (a fill, a cel shadow, a
    highlight, a CG shape), whose boundary is a contour; soft shading, glows,
    painted strokes and texture are not (``flat=False``).
    """
    if box is None:
      rows, cols = np.flatnonzero(alpha.max(axis=1)), np.flatnonzero(alpha.max(axis=0))
      if not rows.size:
        return
      box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
      alpha = alpha[box]
    a = alpha[..., None]
    view = self.color[box]
    view *= 1.0 - a
    view += a * np.asarray(rgb, np.float32)
    if flat:
      view = self.flat[box]
      view *= 1.0 - a
      view += a * np.asarray(rgb, np.float32)
    self.ink_alpha[box] *= 1.0 - alpha  # paint laid on top hides the lines in the color image

  def fill_background(self, color: np.ndarray, flat_rgb=None) -> None:
    """The whole canvas: ``color`` (S, S, 3) or an RGB; its flat layer is
    ``flat_rgb`` (one color: a gradient or a texture has no contour), default the
    color itself."""
    self.color[:] = color
    self.flat[:] = color if flat_rgb is None else flat_rgb

  def overlay(self, kind: str, alpha: np.ndarray, rgb) -> None:
    """Something laid over the finished image, lines included: ``"normal"`` (a
    letterbox bar: it hides what is under it, contours too), ``"screen"`` (a glow,
    bloom: lightens, lines fade where it washes them out) or ``"multiply"`` (a
    night tint: darkens everything under it)."""
    self.overlays.append((kind, alpha.astype(np.float32), np.asarray(rgb, np.float32)))

  def _apply_overlays(self, image: np.ndarray) -> np.ndarray:
    for kind, alpha, rgb in self.overlays:
      a = alpha[..., None]
      if kind == "normal":
        image = image * (1.0 - a) + rgb * a
      elif kind == "screen":
        image = 255.0 - (255.0 - image) * (1.0 - a * rgb / 255.0)
      else:  # multiply
        image = image * (1.0 - a + a * rgb / 255.0)
    return image

  def contour_lines(self) -> np.ndarray:
    """Line art (supersampled, 255 = paper) of every boundary between flat
    regions whose colors differ visibly (CIELAB distance ``CONTOUR_DE``), as
    the flat layer shows it after the overlays; none under a letterbox bar.
    About one output pixel wide (times the style's line weight), in the tone of
    a drawn line (``CONTOUR_GRAY``, full ink in tone dark)."""
    flat = np.clip(self._apply_overlays(self.flat), 0, 255) / 255.0
    lab = cv2.cvtColor(flat.astype(np.float32), cv2.COLOR_RGB2Lab)
    kernel = np.ones((3, 3), np.uint8)
    spread = cv2.dilate(lab, kernel) - cv2.erode(lab, kernel)  # per-channel range nearby
    de = np.sqrt((spread ** 2).sum(-1))
    lo, hi = CONTOUR_DE
    alpha = np.clip((de - lo) / (hi - lo), 0.0, 1.0)
    weight = self.style.line_weight
    if weight > 1.0:
      r = int(round((weight - 1.0) * self.s))
      alpha = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    else:
      alpha = alpha * weight
    for kind, bar, _ in self.overlays:
      if kind == "normal":  # a bar's edge is the frame's, not the art's
        alpha = alpha * (1.0 - cv2.dilate(bar, kernel, iterations=3))
    return 255.0 - (255.0 - self.line_gray(CONTOUR_GRAY)) * alpha

  def cover_lines(self, alpha: np.ndarray) -> None:
    """An opaque shape on top hides the lines beneath it."""
    self.line += (255.0 - self.line) * alpha
    if self.solid is not None:
      self.solid += (255.0 - self.solid) * alpha

  def mark(self, alpha: np.ndarray, box, gray: float) -> None:
    """Line art only, never faded: a black fill drawn as ink, an outline."""
    if self.solid is None:
      self.solid = np.full((self.size, self.size), 255.0, np.float32)
    view = self.solid[box]
    view *= 1.0 - alpha
    view += gray * alpha

  def line_gray(self, gray: float) -> float:
    """A line's gray in the line art under the style's tone (paper stays paper)."""
    return 0.0 if self.style.tone == "dark" and gray < 255.0 else gray

  def keeps(self, detail: bool) -> bool:
    """Whether a stroke is in the line art: detail strokes at the style's rate."""
    d = self.style.detail
    return not detail or d >= 1.0 or bool(self.style_rng.uniform() < d)

  def ink(self, alpha: np.ndarray, box, rgb, gray: float, opacity: float = 1.0,
          target: np.ndarray | None = None, target_gray: float | None = None,
          target_box=None) -> None:
    """A line: the same coverage in the color image (``rgb``) and the line art,
    or in the line art the coverage ``target`` (inside ``target_box``, default
    ``box``) of gray ``line_gray(target_gray)`` (default ``gray``): the style's
    weight, detail and tone."""
    a = alpha * opacity
    ink_a, ink_rgb = self.ink_alpha[box], self.ink_rgb[box]
    ink_rgb *= (ink_a * (1.0 - a))[..., None]
    ink_rgb += a[..., None] * np.asarray(rgb, np.float32)
    ink_a *= 1.0 - a
    ink_a += a
    ink_rgb /= np.maximum(ink_a, 1e-6)[..., None]  # stored un-premultiplied
    if target is None and self.style.is_default:
      t, tg = a, gray
    else:
      t = a if target is None else target * (opacity if self.style.tone == "drawn" else 1.0)
      tg = self.line_gray(gray if target_gray is None else target_gray)
    view = self.line[box if target_box is None else target_box]
    view *= 1.0 - t
    view += tg * t

  def color_image(self, multiply: bool, strength: float, widen: float = 0.0) -> np.ndarray:
    """The fill layer with the line layer on top, at ``strength`` opacity.

    ``multiply`` darkens the fill by the line color, as a line layer in Multiply
    mode does; otherwise the lines are laid over it (Normal mode).  ``widen``
    (output px) widens the lines of the color image only, still dark at their
    core: a colorization network thickens the sketch lines it paints over.
    """
    alpha, rgb = self.ink_alpha, self.ink_rgb
    if widen:
      sigma = widen * self.s
      wide = cv2.GaussianBlur(alpha, (0, 0), sigma)
      rgb = cv2.GaussianBlur(rgb * alpha[..., None], (0, 0), sigma) / np.maximum(
          wide, 1e-6)[..., None]
      alpha = np.minimum(wide * 2.5, 1.0)
    a = (alpha * strength)[..., None]
    over = self.color * (rgb / 255.0) if multiply else rgb
    return self.color * (1.0 - a) + over * a

  def result(self, multiply: bool = False, strength: float = 1.0, widen: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray]:
    """(color, line) at the output size.

    A line the color image does not show (dark ink on black paint, a line
    painted over) fades from the target with its contrast: no one could
    extract it, and a model taught to guess it draws strokes on dark shading.
    """
    out = self.size // SUPERSAMPLE
    color = self._apply_overlays(self.color_image(multiply, strength, widen))
    base = self._apply_overlays(self.color) if self.overlays else self.color
    shown = np.abs((color - base) @ LUMA)  # how much the lines change the image
    seen = np.clip((shown - VISIBLE[0]) / (VISIBLE[1] - VISIBLE[0]), 0.0, 1.0)
    if self.style.line_weight > 1.0:  # a wider line in the line art than in the image:
      # as visible as the image's line it widens (by up to half the widest brush)
      r = int(np.ceil((self.style.line_weight - 1.0) * WIDEST_BRUSH / 2 * self.s))
      seen = cv2.dilate(seen, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    line = 255.0 - (255.0 - self.line) * seen
    if self.solid is not None:
      line *= self.solid / 255.0
    if self.style.contours == "all":
      line = np.minimum(line, self.contour_lines())
    color = cv2.resize(color, (out, out), interpolation=cv2.INTER_AREA)
    line = cv2.resize(line, (out, out), interpolation=cv2.INTER_AREA)
    return color, line


# -- geometry (output-pixel coordinates) --------------------------------------
def _blob(rng, size: float, center=None, radius=None) -> np.ndarray:
  """A smooth closed outline: polar radius with a few random harmonics."""
  center = rng.uniform(0.1, 0.9, 2) * size if center is None else center
  radius = np.exp(rng.uniform(np.log(0.03), np.log(0.3))) * size if radius is None else radius
  aspect = rng.uniform(0.5, 1.5)
  theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
  r = np.ones_like(theta)
  for k in range(2, 6):
    r += rng.uniform(0, 0.3 / k) * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
  rot = rng.uniform(0, np.pi)
  x, y = radius * r * np.cos(theta) * aspect, radius * r * np.sin(theta)
  pts = np.stack([x * np.cos(rot) - y * np.sin(rot), x * np.sin(rot) + y * np.cos(rot)], 1)
  return pts + center


def _bezier(p: np.ndarray, n: int = 48) -> np.ndarray:
  t = np.linspace(0, 1, n)[:, None]
  return ((1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t ** 2 * p[2]
          + t ** 3 * p[3])


def _curve(rng, start: np.ndarray, length: float, direction: float | None = None,
           bend: float = 0.35) -> np.ndarray:
  """An open cubic Bezier of about ``length`` px from ``start``."""
  direction = rng.uniform(0, 2 * np.pi) if direction is None else direction
  d = np.array([np.cos(direction), np.sin(direction)])
  n = np.array([-d[1], d[0]])
  p = [start, start + d * length / 3 + n * rng.normal(0, bend) * length / 3,
       start + d * 2 * length / 3 + n * rng.normal(0, bend) * length / 3,
       start + d * length + n * rng.normal(0, bend * 0.5) * length / 3]
  return _bezier(np.array(p), max(8, int(length / 3)))


def _closed(pts: np.ndarray) -> np.ndarray:
  return np.concatenate([pts, pts[:1]])


def _unit_normals(pts: np.ndarray) -> np.ndarray:
  """(N, 2) unit normals of an open curve, for offsetting it sideways."""
  tangent = np.gradient(pts, axis=0)
  normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
  return normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)


# -- line styles ---------------------------------------------------------------
def _width_profile(rng, n: int, width: float, kind: str) -> np.ndarray:
  t = np.linspace(0, 1, n)
  if kind == "even":
    return np.full(n, width)
  if kind == "taper":  # brush pressure: thin at both ends
    return width * (0.15 + 0.85 * np.sin(np.pi * t) ** rng.uniform(0.4, 1.0))
  if kind == "point":  # hair strand: thick root, pointed tip
    return width * (1.0 - t) ** rng.uniform(0.7, 1.5) + 0.05
  # "pressure": slowly varying pen pressure
  wobble = np.interp(t, np.linspace(0, 1, 5), rng.uniform(0.6, 1.3, 5))
  return width * wobble


def _ink_gray(rng) -> float:
  """An ink line's tone in its line art: light ink (sketches inked lightly,
  tinted ink read as gray) 40 % of the time, else black ink."""
  return rng.uniform(40, 130) if rng.uniform() < 0.4 else rng.uniform(0, 60)


def _bright_trace(rng, fill) -> np.ndarray | None:
  """A trace line's color brighter than ``fill`` (anime frames' rim lights and
  highlight traces: on three of the dev frames a quarter to a third of
  AniLines-basic's ink lies on lines brighter than their surround); None where the
  fill is too light for one to show (``BRIGHT_TRACE_VISIBLE``)."""
  fill = np.asarray(fill, np.float32)
  tint = rng.uniform(215, 255, 3)
  rgb = fill + (tint - fill) * rng.uniform(*BRIGHT_TRACE_MIX)
  return rgb if float((rgb - fill) @ LUMA) >= BRIGHT_TRACE_VISIBLE else None


class Pen:
  """How one drawing's lines look: width range, ink tone, medium."""

  def __init__(self, rng, kind: FrameKind | None = None):
    """``kind``: a frame's pen (None: a drawing's)."""
    self.rng = rng
    # Its light and bright shares (``_color``) are 0 unless traced (``FrameKind``).
    self.kind = kind = FrameKind() if kind is None else kind
    if kind.traced:  # a traced anime frame's lines (``_traced_lines``)
      self._traced_lines(rng)
      return
    self.medium = rng.choice(["ink", "ink", "brush", "pencil", "hairline"])
    lo, hi = {"ink": (0.5, 2.2), "brush": (1.5, 12.0), "pencil": (0.5, 1.5),
              "hairline": (0.4, 1.0)}[self.medium]
    self.lo, self.hi = lo, hi
    # Ink tone of the target: black ink, light ink (sketches inked lightly, tinted
    # ink read as gray) or pencil; the color image's lines follow it.
    self.gray = float(rng.uniform(90, 170) if self.medium == "pencil"
                      else rng.uniform(0, 40) if self.medium == "brush"
                      else _ink_gray(rng))
    self.colored = rng.uniform() < 0.45  # lines take a darker shade of the fill beside them

  def _traced_lines(self, rng) -> None:
    """The lines of a traced anime frame: the cels' trace, thin, of one tone along each
    line (ink's tones: black, or a dark shade of the fill beside them, more
    often than in drawings), never pencil grain or a wide brush."""
    self.medium = rng.choice(["ink", "hairline"])
    self.lo, self.hi = {"ink": (0.6, 2.0), "hairline": (0.4, 1.0)}[self.medium]
    self.gray = float(_ink_gray(rng))
    self.colored = rng.uniform() < 0.6

  def width(self) -> float:
    return float(np.exp(self.rng.uniform(np.log(self.lo), np.log(self.hi))))

  def _color(self, fill, gray: float, thin: bool) -> np.ndarray:
    """A line's RGB in the color image, beside ``fill`` (None: on no fill);
    ``thin``: at most ``COLORED_WIDEST`` wide."""
    rng = self.rng
    # A traced frame's thin line may be brighter than the fill (a rim light or a
    # highlight trace), where the fill is dark enough for that to show.
    bright, light = self.kind.bright_traces, self.kind.light_traces
    if thin and bright and rng.uniform() < bright:
      rgb = _bright_trace(rng, fill)
      if rgb is not None:
        return rgb
    # Colored lines are thin: a wide stroke in a darker shade of the fill is a
    # colorist's shading (hair, folds), paint; wide lines of the line art are ink.
    # A colored line is as dark as its tone, or in a traced frame a light shade of
    # the fill (light_traces; the dev frames' lines are 0.54-0.85 of the fill's
    # luminance where their recall is lowest).  Bright or light, it is a drawn line
    # all the same, in its ink's tone in the line art.
    if thin and self.colored and rng.uniform() < 0.8:
      if light and rng.uniform() < light:
        return np.clip(np.asarray(fill) * rng.uniform(*LIGHT_TRACE_SHADE), 0, 255)
      shade = np.clip(0.2 + 0.6 * gray / 255.0 + rng.normal(0, 0.08), 0.15, 0.9)
      return np.clip(np.asarray(fill) * shade, 0, 255)
    if fill is not None and rng.uniform() < 0.03:  # a line almost the fill's color
      return np.clip(np.asarray(fill) * rng.uniform(0.8, 0.92), 0, 255)
    return np.full(3, gray * rng.uniform(0.7, 1.0), np.float32)

  def draw(self, canvas: Canvas, pts: np.ndarray, fill=None, width: float | None = None,
           kind: str | None = None, detail: bool = False) -> None:
    """A stroke along ``pts``; ``detail``: an inner stroke (fold, strand inside a
    mass, loose mark) that the style's ``detail`` below 1 may leave out of the
    line art."""
    rng = self.rng
    width = self.width() if width is None else width
    if kind is None:
      kind = {"brush": "taper", "pencil": "pressure"}.get(self.medium, rng.choice(
          ["even", "pressure", "taper"]))
    passes = int(rng.integers(1, 4)) if self.medium == "pencil" else 1
    gray = float(np.clip(self.gray + rng.normal(0, 15), 0, 200))
    rgb = self._color(fill, gray, fill is not None and width <= COLORED_WIDEST)
    style = canvas.style
    keep = canvas.keeps(detail)
    for _ in range(passes):
      jitter = rng.normal(0, 0.35 if passes > 1 else 0.0, pts.shape)
      profile = _width_profile(rng, len(pts), width, kind)
      alpha, box = canvas.stroke_mask(pts + jitter, profile)
      target, target_box = None, None
      if not keep:
        target = np.zeros_like(alpha)
      elif style.line_weight != 1.0:  # the line art's stroke, in a box of its own
        target, target_box = canvas.stroke_mask(pts + jitter, profile * style.line_weight)
      opacity = 1.0
      if self.medium == "pencil":  # paper grain breaks the stroke up
        grain = rng.uniform(0.45, 1.0, alpha.shape).astype(np.float32)
        if style.tone == "drawn" and target_box is not None:
          target = target * canvas.style_rng.uniform(0.45, 1.0, target.shape).astype(np.float32)
        elif style.tone == "drawn" and target is None:
          target = alpha * grain
        elif style.tone == "dark" and target is None:
          target = alpha  # dark tone: the line's core at full ink, no grain
        alpha = alpha * grain
        opacity = rng.uniform(0.6, 1.0) if passes > 1 else 1.0
      canvas.ink(alpha, box, rgb, gray, opacity, target, target_box=target_box)


# -- the drawing ---------------------------------------------------------------
def _background(canvas: Canvas, rng, size: int) -> None:
  s = canvas.size
  u = rng.uniform()
  if u < 0.45:  # white or near-white paper behind a character
    canvas.fill_background(rng.uniform(235, 255))
    return
  if u < 0.6:  # flat pale color
    canvas.fill_background(_rgb(rng, 150, 255))
    return
  if u < 0.7:  # black or dark, flat or shaded: paint, however large (white paper in the target)
    canvas.fill_background(_dark_rgb(rng, 30, 12))
    if rng.uniform() < 0.5:
      glow = canvas.region(_blob(rng, size, rng.uniform(0.2, 0.8, 2) * size,
                                 rng.uniform(0.1, 0.4) * size))
      glow = cv2.GaussianBlur(glow, (0, 0), float(rng.uniform(10, 40)) * canvas.s)
      canvas.paint(glow * rng.uniform(0.2, 0.7), _rgb(rng, 40, 200), flat=False)
    return
  if u < 0.8:  # linear gradient
    a, b = _rgb(rng, 60, 255), _rgb(rng, 60, 255)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    t = np.clip(0.5 + (xx - 0.5) * np.cos(theta) + (yy - 0.5) * np.sin(theta), 0, 1)
    canvas.fill_background(a + (b - a) * t[..., None], (a + b) / 2)
    return
  # busy: textured noise and soft-edged shapes, with no line art
  cells = int(rng.integers(4, 24))
  noise = rng.uniform(40, 255, (cells, cells, 3)).astype(np.float32)
  tex = cv2.resize(noise, (s, s), interpolation=cv2.INTER_CUBIC)
  tex = cv2.GaussianBlur(tex, (0, 0), float(rng.uniform(1, 6)) * canvas.s)
  canvas.fill_background(tex, tex.mean((0, 1)))
  for _ in range(int(rng.integers(0, 6))):
    alpha = canvas.region(_blob(rng, size))
    sharp = rng.uniform() < 0.5
    if not sharp:
      alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(2, 8)) * canvas.s)
    canvas.paint(alpha, _rgb(rng, 30, 255), flat=sharp)


def _shape(canvas: Canvas, pen: Pen, rng, size: int) -> None:
  """A filled closed shape with its shading, outline, folds and effects."""
  radius = np.exp(rng.uniform(np.log(0.03), np.log(0.3))) * size
  pts = _blob(rng, size, radius=radius)
  u = rng.uniform()
  # Down to black: paint, but only on large shapes (clothing, hair); small flat
  # black areas are ink (_ink_spot: pupils, sunglasses), as in real line art.
  # Deep hued fills are paint at any size: a model that never saw small ones
  # filled real dark red ribbons and spikes with ink inside their outline.
  dark = u < 0.3 and radius >= LARGE_PAINT * size
  fill = (_dark_rgb(rng, 70, 15) if dark else
          np.clip(rng.uniform(225, 255) - _rgb(rng, 0, 15), 0, 255) if u < 0.35
          else _deep_rgb(rng) if u < 0.5 else _rgb(rng, 40, 255))
  alpha = canvas.region(pts)
  canvas.paint(alpha, fill)
  canvas.cover_lines(alpha)
  if dark:
    _black_as_ink(canvas, alpha, fill)
  s = canvas.s
  if rng.uniform() < 0.65:  # cel shadow: the shape minus a shifted copy
    shifted = canvas.region(pts + rng.normal(0, 0.1, 2) * size)
    tint = np.array([0.62, 0.6, 0.75], np.float32) * rng.uniform(0.7, 1.0)
    canvas.paint(alpha * (1.0 - shifted), fill * tint)
  if rng.uniform() < 0.35:  # soft airbrush shading
    soft = canvas.region(_blob(rng, size, pts.mean(0) + rng.normal(0, 0.08, 2) * size,
                               rng.uniform(0.03, 0.15) * size))
    soft = cv2.GaussianBlur(soft, (0, 0), float(rng.uniform(2, 10)) * s) * alpha
    tone = fill * rng.uniform(0.5, 0.85) if rng.uniform() < 0.6 else np.minimum(fill + 60, 255)
    canvas.paint(soft * rng.uniform(0.4, 0.9), tone, flat=False)
  if rng.uniform() < 0.4:  # highlight
    c = pts.mean(0) + rng.normal(0, 0.04, 2) * size
    hl = canvas.region(_blob(rng, size, c, rng.uniform(0.008, 0.04) * size)) * alpha
    canvas.paint(hl, np.clip(fill * 1.35 + 50, 0, 255))
  if rng.uniform() < 0.87:  # outline (else: a color boundary with no line); a small
    # shape's (a button, a mark) is detail
    pen.draw(canvas, _closed(pts), fill, detail=radius < SMALL_MARK * size)
  if dark and rng.uniform() < 0.6:  # painted folds and sheen on dark cloth
    c = pts.mean(0)
    _painted_strokes(canvas, rng, alpha, fill, [
        _curve(rng, c + rng.normal(0, 0.06, 2) * size, rng.uniform(0.03, 0.15) * size)
        for _ in range(int(rng.integers(2, 8)))])
  for _ in range(int(rng.integers(0, 4 if not dark else 7))):  # short fold strokes inside
    i = int(rng.integers(len(pts)))
    start = pts[i] + (pts.mean(0) - pts[i]) * rng.uniform(0.05, 0.3)
    inward = np.arctan2(*(pts.mean(0) - start)[::-1]) + rng.normal(0, 0.6)
    fold = _curve(rng, start, rng.uniform(0.03, 0.12) * size, inward, bend=0.25)
    pen.draw(canvas, fold, fill, pen.width() * 0.8, "point", detail=True)


def _hair(canvas: Canvas, pen: Pen, rng, size: int) -> None:
  """A hair mass: a filled region with bundles of long thin strands ending in points."""
  root = rng.uniform(0.2, 0.8, 2) * size
  direction = rng.uniform(0, 2 * np.pi)
  length = rng.uniform(0.2, 0.6) * size
  dark = rng.uniform() < 0.35
  fill = _dark_rgb(rng, 70, 15) if dark else _rgb(rng, 20, 250)
  spread = rng.uniform(0.15, 0.4) * size
  d = np.array([np.cos(direction), np.sin(direction)])
  n = np.array([-d[1], d[0]])
  strands = []
  for offset in np.sort(rng.uniform(-1, 1, int(rng.integers(6, 18)))):  # side to side
    start = root + n * offset * spread / 2
    strands.append(_curve(rng, start, length * rng.uniform(0.5, 1.1),
                          direction + rng.normal(0, 0.2), bend=0.2))
  outer = np.concatenate([strands[0], strands[-1][::-1]])  # the mass spans the outer two
  hull = cv2.convexHull(outer.astype(np.float32)).reshape(-1, 2)
  alpha = canvas.region(hull)
  canvas.paint(alpha, fill)
  canvas.cover_lines(alpha)
  if dark:
    _black_as_ink(canvas, alpha, fill)
  if rng.uniform() < 0.6:  # shaded strands of the mass
    canvas.paint(alpha * canvas.region(hull + n * rng.uniform(2, 8)), fill * 0.75)
  streaks = lambda count: [  # curves along the mass, between the strands
      _curve(rng, root + n * rng.uniform(-1, 1) * spread / 2, length * rng.uniform(0.3, 1.0),
             direction + rng.normal(0, 0.2), bend=0.2) for _ in range(count)]
  if rng.uniform() < 0.7:  # streaks between the strands
    curves = streaks(int(rng.integers(4, 16)))
    if canvas.traced:  # a traced frame's: drawn, thin, often in a shade of the fill
      # (the frame's animators and AniLines' basic mode draw them)
      for curve in curves:
        pen.draw(canvas, curve, fill, pen.width() * rng.uniform(0.5, 1.0), "point", detail=True)
    else:  # a colorist's: painted, coloring, not line art; as wide as a brush line
      # at their root (real hair shading was drawn as lines)
      _painted_strokes(canvas, rng, alpha, fill, curves, widths=(1.5, 9.0))
  if rng.uniform() < 0.5:  # shadow bands, as a colorist paints them: wide, soft, dark
    _painted_strokes(canvas, rng, alpha, fill, streaks(int(rng.integers(3, 12))),
                     widths=(2.5, 12.0), kind="taper", blur=(0.8, 2.5), darken=(0.25, 0.6))
  w = pen.width()
  for i, strand in enumerate(strands):  # the outer two are the mass's contour, the rest detail
    pen.draw(canvas, strand, fill, w * rng.uniform(0.6, 1.1), "point",
             detail=0 < i < len(strands) - 1)


def _painted_strokes(canvas: Canvas, rng, inside: np.ndarray, fill, curves,
                     widths=(0.8, 6.0), kind="point", blur=None, darken=(0.35, 0.75)) -> None:
  """Tapered shading and highlight strokes painted inside ``inside`` (a coverage
  mask): thin and dark like lines, but paint, so absent from the line art.

  ``widths`` in px; ``kind`` their ``_width_profile``; ``blur`` a range of edge
  softness in px (always soft), else half are soft; ``darken`` the range of the
  dark strokes' shade of ``fill``.
  """
  for pts in curves:
    width = float(np.exp(rng.uniform(np.log(widths[0]), np.log(widths[1]))))
    profile = _width_profile(rng, len(pts), width, kind)
    sigma = (rng.uniform(*blur) if blur is not None
             else rng.uniform(0.5, 1.5) if rng.uniform() < 0.5 else 0.0)
    # room for the blur's tail: a tail clipped at the box leaves a faint hard edge
    alpha, box = canvas.stroke_mask(pts, profile, margin=3 * sigma)
    if not alpha.size:
      continue
    if sigma:
      alpha = cv2.GaussianBlur(alpha, (0, 0), float(sigma) * canvas.s)
    tone = (np.asarray(fill) * rng.uniform(*darken) if rng.uniform() < 0.65
            else np.minimum(np.asarray(fill) + rng.uniform(40, 110), 255))
    canvas.paint(alpha * inside[box] * rng.uniform(0.5, 1.0), tone, box, flat=False)


def _spike(canvas: Canvas, pen: Pen, rng, size: int) -> None:
  """A narrow tapered shape painted in a hue (a hair tip, ribbon end, horn,
  flame) with its outline: a brush stroke's silhouette, but paint, so only its
  outline is line art.  Wide tapered strokes are otherwise neutral ink; a model
  that saw no colored ones filled real dark red spikes with ink."""
  spine = _curve(rng, rng.uniform(0.1, 0.9, 2) * size, rng.uniform(0.04, 0.25) * size, bend=0.3)
  normal = _unit_normals(spine)
  t = np.linspace(0, 1, len(spine))[:, None]
  half = rng.uniform(0.008, 0.03) * size * (1.0 - t) ** rng.uniform(0.6, 1.4) + 0.3
  outline = np.concatenate([spine + normal * half, (spine - normal * half)[::-1]])
  fill = _deep_rgb(rng) if rng.uniform() < 0.7 else _rgb(rng, 40, 255)
  alpha = canvas.region(outline)
  canvas.paint(alpha, fill)
  canvas.cover_lines(alpha)
  if rng.uniform() < 0.87:  # outline (else: a color boundary with no line)
    pen.draw(canvas, _closed(outline), fill, min(pen.width(), 0.5 * float(half.max())))


def _frill(canvas: Canvas, pen: Pen, rng, size: int) -> None:
  """A frilled band (lace, ruffles): a scalloped edge along a curve, with a short
  fold line into each scallop; dense small line work over a light fill."""
  base = _curve(rng, rng.uniform(0.1, 0.9, 2) * size, rng.uniform(0.15, 0.6) * size, bend=0.2)
  normal = _unit_normals(base)
  depth = rng.uniform(0.015, 0.05) * size
  length = float(np.sum(np.linalg.norm(np.diff(base, axis=0), axis=1)))
  scallops = max(3, int(length / (depth * rng.uniform(1.0, 2.5))))
  per_scallop = 12  # samples of the edge per scallop
  t = np.linspace(0, 1, len(base))
  dense = np.linspace(0, 1, scallops * per_scallop)
  base_d = np.stack([np.interp(dense, t, base[:, k]) for k in range(2)], 1)
  normal_d = np.stack([np.interp(dense, t, normal[:, k]) for k in range(2)], 1)
  bulge = 0.55 + 0.45 * np.abs(np.sin(np.pi * dense * scallops))
  edge = base_d + normal_d * depth * bulge[:, None]
  fill = np.clip(rng.uniform(200, 255) - _rgb(rng, 0, 40), 0, 255)
  band = np.concatenate([base_d, edge[::-1]])
  alpha = canvas.region(band)
  canvas.paint(alpha, fill)
  canvas.cover_lines(alpha)
  w = pen.width() * rng.uniform(0.5, 0.9)
  pen.draw(canvas, edge, fill, w)
  if rng.uniform() < 0.7:  # the band's inner edge: detail
    pen.draw(canvas, base_d, fill, w, detail=True)
  for k in range(scallops - 1):  # a fold where two scallops meet
    i = (k + 1) * per_scallop
    pen.draw(canvas, np.stack([edge[i], edge[i] + (base_d[i] - edge[i]) * rng.uniform(0.3, 0.8)]),
             fill, w * 0.7, "point", detail=True)


def _ink_spot(canvas: Canvas, rng, size: int) -> None:
  """A solid ink area drawn as line art (a pupil, sunglasses, a dark accent): flat
  near-black in both images, with a white catch-light that is paper in both.
  Dark and black fills (``_shape``, ``_hair``, ``_background``) are larger
  (``LARGE_PAINT``) and paint, absent from the line art: a model that saw small
  black shapes painted as often as inked drew real pupils light gray.  A spot's
  area stays at most half the smallest paint's (``INK_SPOT_LARGEST``): spots
  drawn up to 0.09 of the side overlapped the paint's sizes and left a model
  hedging between ink and paper, their insides gray (issue 41)."""
  c = rng.uniform(0.1, 0.9, 2) * size
  blob = _blob(rng, size, c, rng.uniform(0.01, INK_SPOT_LARGEST) * size)
  largest = np.pi * (INK_SPOT_LARGEST * size) ** 2
  blob = c + (blob - c) * min(1.0, np.sqrt(largest / cv2.contourArea(blob.astype(np.float32))))
  alpha = canvas.region(blob)
  gray = float(rng.uniform(0, 22))
  whole = (slice(None), slice(None))
  if canvas.style.blacks == "paint":  # the same spot in the color image, its outline as line art
    canvas.cover_lines(alpha)
    canvas.ink(alpha, whole, np.full(3, gray), gray, target=np.zeros_like(alpha))
    outline, box = canvas.stroke_mask(_closed(blob), np.full(len(blob) + 1,
                                      OUTLINE_WIDTH * canvas.style.line_weight))
    canvas.mark(outline, box, canvas.line_gray(gray))
  else:
    canvas.ink(alpha, whole, np.full(3, gray), gray)
  if rng.uniform() < 0.6:
    light = canvas.region(_blob(rng, size, c + rng.normal(0, 0.01, 2) * size,
                                rng.uniform(0.003, 0.02) * size)) * alpha
    canvas.ink(light, (slice(None), slice(None)), np.full(3, 255.0), 255.0)


def _black_as_ink(canvas: Canvas, alpha: np.ndarray, fill) -> None:
  """Style ``blacks=ink``: a large dark fill (black clothing, black hair) is line
  art, drawn into it at its own darkness (full ink in tone ``dark``)."""
  if canvas.style.blacks == "ink":
    canvas.mark(alpha, (slice(None), slice(None)),
                canvas.line_gray(float(np.asarray(fill, np.float32) @ LUMA)))


def _blush(canvas: Canvas, rng, size: int) -> None:
  """Blush hatching: short parallel pink strokes, coloring and not line art."""
  c = rng.uniform(0.1, 0.9, 2) * size
  angle = rng.uniform(0, np.pi)
  d = np.array([np.cos(angle), np.sin(angle)])
  n = np.array([-d[1], d[0]])
  rgb = np.array([rng.uniform(200, 255), rng.uniform(90, 160), rng.uniform(110, 170)])
  length = rng.uniform(0.02, 0.05) * size
  for k in range(int(rng.integers(3, 7))):
    start = c + n * k * rng.uniform(1.5, 3) - d * length / 2
    pts = np.stack([start, start + d * length])
    alpha, box = canvas.stroke_mask(pts, np.array([1.0, 0.6]))
    canvas.paint(alpha * 0.8, rgb, box, flat=False)


def _sparkle(canvas: Canvas, rng, size: int) -> None:
  """A four-pointed star in a light color: an effect, not line art."""
  c = rng.uniform(0.05, 0.95, 2) * size
  r = rng.uniform(0.01, 0.05) * size
  angles = np.arange(8) * np.pi / 4 + rng.uniform(0, np.pi / 2)
  radii = np.where(np.arange(8) % 2 == 0, r, r * 0.2)
  pts = c + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]
  canvas.paint(canvas.region(pts), np.clip(_rgb(rng, 200, 255) + 30, 0, 255))


# -- anime frames: the scenes of screenshots that drawings lack ---------------
def _night(canvas: Canvas, rng, size: int) -> None:
  """A night or dark sky: a dark vertical gradient (no contour), soft clouds a
  little lighter than the sky (paper in every target) and stars, small flat
  points of light (paper when drawn, dots among all contours)."""
  s = canvas.size
  top, bottom = _dark_rgb(rng, 25, 30), _dark_rgb(rng, 70, 40)
  t = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
  canvas.fill_background(np.broadcast_to(top + (bottom - top) * t, (s, s, 3)), (top + bottom) / 2)
  for _ in range(int(rng.integers(0, 4))):  # clouds
    cloud = canvas.region(_blob(rng, size, radius=rng.uniform(0.1, 0.3) * size))
    cloud = cv2.GaussianBlur(cloud, (0, 0), float(rng.uniform(4, 15)) * canvas.s)
    canvas.paint(cloud * rng.uniform(0.3, 0.8), _dark_rgb(rng, 90, 40), flat=False)
  stars = np.zeros((s, s), np.float32)
  for _ in range(int(rng.integers(0, 80))):
    c = _fixed(rng.uniform(0, size, 2) * canvas.s)
    cv2.circle(stars, tuple(c), max(1, int(rng.uniform(0.3, 1.5) * canvas.s)), 1.0, cv2.LINE_AA,
               SHIFT)
  canvas.paint(stars * rng.uniform(0.5, 1.0), _rgb(rng, 200, 255))


def _city(canvas: Canvas, rng, size: int) -> None:
  """CG buildings: flat polygons with rows of windows, lit or dark, and no line
  anywhere (a background painted or rendered, not drawn): contours only."""
  night = rng.uniform() < 0.6
  ground = rng.uniform(0.5, 1.0) * size
  x = rng.uniform(-0.1, 0.1) * size
  while x < size:
    w = rng.uniform(0.06, 0.25) * size
    top = ground - rng.uniform(0.15, 0.8) * size
    body = _dark_rgb(rng, 60, 30) if night else _rgb(rng, 60, 220)
    pts = np.array([[x, top], [x + w, top], [x + w, ground + size], [x, ground + size]])
    canvas.paint(canvas.region(pts), body)
    if rng.uniform() < 0.5:  # the lit or shaded side: a second flat plane
      side = pts.copy()
      side[[0, 3], 0] = x + w * rng.uniform(0.6, 0.85)
      canvas.paint(canvas.region(side), np.clip(body * rng.uniform(0.55, 1.4), 0, 255))
    lit = np.array([rng.uniform(200, 255), rng.uniform(170, 240), rng.uniform(90, 190)])
    cell, pane = rng.uniform(0.015, 0.04) * size, rng.uniform(0.35, 0.7)
    for wy in np.arange(top + cell * 0.7, min(ground, size), cell):
      for wx in np.arange(x + cell * 0.5, x + w - cell * 0.5, cell):
        if rng.uniform() < (0.45 if night else 0.3):
          win = np.array([[wx, wy], [wx + cell * pane, wy], [wx + cell * pane, wy + cell * pane],
                          [wx, wy + cell * pane]])
          canvas.paint(canvas.region(win), lit if night else body * rng.uniform(0.5, 0.8))
    x += w * rng.uniform(0.9, 1.3)


def _graphic(canvas: Canvas, rng, size: int) -> None:
  """Flat graphics: bands, panels and text-like glyph shapes in flat colors with
  no drawn line (a poster, a title card, screen text), often in close hues
  (pink on magenta): contours only."""
  for _ in range(int(rng.integers(1, 4))):  # panels and bands
    c = rng.uniform(0, 1, 2) * size
    wh = rng.uniform(0.2, 0.9, 2) * size
    ang = rng.uniform(-0.3, 0.3) if rng.uniform() < 0.5 else 0.0
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * wh / 2
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    canvas.paint(canvas.region(corners @ rot.T + c), _rgb(rng, 20, 255))
  base = canvas.flat[canvas.size // 2, canvas.size // 2]
  glyph_rgb = (np.clip(base + rng.normal(0, 50, 3), 0, 255) if rng.uniform() < 0.5
               else _rgb(rng, 0, 255))
  height = rng.uniform(0.04, 0.15) * size
  x0, y = rng.uniform(0.0, 0.5) * size, rng.uniform(0.1, 0.9) * size
  for k in range(int(rng.integers(3, 12))):  # glyphs: a few thick bars and arcs each
    gx = x0 + k * height * rng.uniform(0.8, 1.1)
    glyph = np.zeros((canvas.size, canvas.size), np.float32)
    for _ in range(int(rng.integers(2, 4))):
      p = (np.array([gx, y]) + rng.uniform(0, 1, (2, 2)) * height * [0.7, 1.0]) * canvas.s
      cv2.line(glyph, tuple(_fixed(p[0])), tuple(_fixed(p[1])), 1.0,
               max(1, int(height * rng.uniform(0.12, 0.22) * canvas.s)), cv2.LINE_AA, SHIFT)
    canvas.paint(glyph, glyph_rgb)


def _floor(canvas: Canvas, rng, size: int) -> None:
  """A wooden floor or tiled ground: flat planks in close tones, their seams
  boundaries with no line (contours only)."""
  wood = _rgb(rng, 60, 200) * np.array([1.0, 0.75, 0.5], np.float32)
  canvas.fill_background(wood)
  y = rng.uniform(0.2, 0.7) * size
  canvas.paint(canvas.region(np.array([[0, 0], [size, 0], [size, y], [0, y]])),
               _rgb(rng, 40, 230))  # the wall
  while y < size:
    h = rng.uniform(0.04, 0.12) * size
    canvas.paint(canvas.region(np.array([[0, y], [size, y], [size, y + h], [0, y + h]])),
                 np.clip(wood * rng.uniform(0.8, 1.2), 0, 255))
    y += h


def _clutter(canvas: Canvas, rng, size: int) -> None:
  """A dark frame full of small bright shapes: embers and city lights (a flat
  bright core in a soft glow) and confetti (small flat quads): paint, never ink,
  in the drawn target; the cores' and the confetti's edges are contours."""
  s = canvas.size
  cores = np.zeros((s, s), np.float32)
  for _ in range(int(rng.integers(10, 120))):
    c = _fixed(rng.uniform(0, size, 2) * canvas.s)
    cv2.circle(cores, tuple(c), max(1, int(rng.uniform(0.5, 4) * canvas.s)), 1.0, cv2.LINE_AA,
               SHIFT)
  rgb = np.clip(_rgb(rng, 150, 255) + [60, 20, 0], 0, 255)
  glow = cv2.GaussianBlur(cores, (0, 0), float(rng.uniform(1, 4)) * canvas.s)
  canvas.paint(np.minimum(glow * rng.uniform(0.5, 1.5), 1.0), rgb * 0.8, flat=False)
  canvas.paint(cores, rgb)
  for _ in range(int(rng.integers(0, 60)) if rng.uniform() < 0.5 else 0):
    c = rng.uniform(0, size, 2)
    r = rng.uniform(0.005, 0.02) * size
    quad = c + rng.normal(0, r, (4, 2))
    canvas.paint(canvas.region(quad), _rgb(rng, 60, 255))


def _speed_lines(canvas: Canvas, pen: "Pen", rng, size: int) -> None:
  """Speed lines: long thin tapered strokes toward a focus, dark (drawn lines,
  detail) or light (an effect painted in: paper in every target)."""
  focus = rng.uniform(0.2, 0.8, 2) * size
  dark = rng.uniform() < 0.5
  for _ in range(int(rng.integers(8, 40))):
    angle = rng.uniform(0, 2 * np.pi)
    d = np.array([np.cos(angle), np.sin(angle)])
    start = focus + d * size * rng.uniform(0.6, 0.9)
    end = focus + d * size * rng.uniform(0.2, 0.5)
    pts = np.linspace(start, end, 12)
    if dark:
      pen.draw(canvas, pts, None, rng.uniform(0.6, 2.5), "point", detail=True)
    else:
      alpha, box = canvas.stroke_mask(pts, _width_profile(rng, 12, rng.uniform(0.8, 3), "point"))
      canvas.paint(alpha, _rgb(rng, 210, 255), box, flat=False)


def _frame_overlays(canvas: Canvas, rng, size: int) -> None:
  """What a frame lays over finished art: a night tint with a lit area, a glow
  or bloom over lines, letterbox bars."""
  s = canvas.size
  if rng.uniform() < 0.3:  # night: everything darkened and tinted, a lit figure
    lit = canvas.region(_blob(rng, size, radius=rng.uniform(0.15, 0.4) * size))
    lit = cv2.GaussianBlur(lit, (0, 0), float(rng.uniform(5, 30)) * canvas.s)
    tint = np.array([rng.uniform(60, 140), rng.uniform(60, 150), rng.uniform(120, 220)])
    canvas.overlay("multiply", (1.0 - lit) * rng.uniform(0.5, 1.0), tint)
  if rng.uniform() < 0.3:  # glow / bloom over the lines
    glow = canvas.region(_blob(rng, size, radius=rng.uniform(0.05, 0.3) * size))
    glow = cv2.GaussianBlur(glow, (0, 0), float(rng.uniform(5, 30)) * canvas.s)
    canvas.overlay("screen", glow * rng.uniform(0.3, 0.9), _rgb(rng, 150, 255))
  if rng.uniform() < 0.15:  # letterbox (or pillarbox) bars
    bar = np.zeros((s, s), np.float32)
    depth = int(rng.uniform(0.05, 0.15) * s)
    if rng.uniform() < 0.7:
      bar[:depth], bar[s - depth:] = 1.0, 1.0
    else:
      bar[:, :depth], bar[:, s - depth:] = 1.0, 1.0
    canvas.cover_lines(bar)
    canvas.overlay("normal", bar, np.full(3, rng.uniform(0, 20)))


def _degrade_frame(color: np.ndarray, rng, kind: FrameKind) -> np.ndarray:
  """A frame's degradations: upscaled from a lower resolution, video compression
  (strong JPEG with chroma subsampling stands in for it), film grain; a traced
  frame is softened with the chance ``kind.soft_frames``."""
  h, w = color.shape[:2]
  if rng.uniform() < 0.6:
    f = rng.uniform(0.4, 0.8)
    small = cv2.resize(color, (max(1, int(w * f)), max(1, int(h * f))),
                       interpolation=cv2.INTER_AREA)
    color = cv2.resize(small, (w, h), interpolation=[cv2.INTER_LINEAR, cv2.INTER_CUBIC][
        int(rng.integers(2))])
  if kind.traced and rng.uniform() < kind.soft_frames:  # camera blur, a soft upscaler
    color = cv2.GaussianBlur(color, (0, 0), float(rng.uniform(0.4, 1.0)))
  if rng.uniform() < 0.4:
    grain = rng.normal(0, rng.uniform(1.5, 6), color.shape).astype(np.float32)
    color = np.clip(color + grain, 0, 255).astype(np.uint8)
  if rng.uniform() < 0.7:
    ok, buf = cv2.imencode(".jpg", color[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 80))])
    color = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
  return np.ascontiguousarray(color)


def _degrade(color: np.ndarray, rng) -> np.ndarray:
  """Resampling blur and JPEG, as art found in the wild has; uint8 RGB in and out."""
  if rng.uniform() < 0.5:  # as blurry as a colorization network's output: lines soften
    h, w = color.shape[:2]
    f = rng.uniform(0.4, 0.85)
    small = cv2.resize(color, (max(1, int(w * f)), max(1, int(h * f))),
                       interpolation=cv2.INTER_AREA)
    color = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
  if rng.uniform() < 0.5:
    ok, buf = cv2.imencode(".jpg", color[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 96))])
    color = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
  return np.ascontiguousarray(color)


def _paint_like_colorist(canvas: Canvas, rng, spread: float = 0.0) -> tuple[bool, float, float]:
  """Fills as a painter or a colorization network leaves them, under sharp lines.

  Colors bleed across their boundaries (blur of the fill layer only), carry
  texture and speckle; returns how the line layer sits on top (``multiply``,
  ``strength``: Multiply mode half the time, now and then faint) and how much
  wider the color image's lines are (0.4-1.2 px in a fraction ``spread`` of the
  pairs, else 0), for ``Canvas.result``.  The line art stays the same.
  """
  s = canvas.size
  if rng.uniform() < 0.6:  # texture: tint and brightness variation, broad or blotchy
    cells = int(rng.integers(3, 13) if rng.uniform() < 0.5 else rng.integers(16, 72))
    noise = rng.normal(0, rng.uniform(0.04, 0.25), (cells, cells, 3)).astype(np.float32)
    canvas.color *= 1.0 + cv2.resize(noise, (s, s), interpolation=cv2.INTER_CUBIC)
  if rng.uniform() < 0.3:  # speckle, strongest in dark areas (colorization artifacts)
    speck = rng.normal(0, rng.uniform(4, 20), (s, s, 3)).astype(np.float32)
    speck = cv2.GaussianBlur(speck, (0, 0), float(rng.uniform(0.5, 1.5)) * canvas.s)
    canvas.color += speck * (1.5 - canvas.color.mean(2, keepdims=True) / 255.0)
  if rng.uniform() < 0.45:  # color bleeding across boundaries
    sigma = float(rng.uniform(0.4, 2.0)) * canvas.s
    canvas.color[:] = cv2.GaussianBlur(canvas.color, (0, 0), sigma)
  np.clip(canvas.color, 0, 255, out=canvas.color)
  multiply = bool(rng.uniform() < 0.5)
  strength = float(rng.uniform(0.6, 0.95)) if rng.uniform() < 0.15 else 1.0
  # no draw when off: the pairs of spread=0 are those of the generator before it
  wider = float(rng.uniform(0.4, 1.2)) if spread and rng.uniform() < spread else 0.0
  return multiply, strength, wider


def _characters(canvas: Canvas, pen: Pen, rng, size: int, count: int) -> None:
  for _ in range(count):
    u = rng.uniform()
    if u < 0.2:
      _hair(canvas, pen, rng, size)
    elif u < 0.32:
      _frill(canvas, pen, rng, size)
    elif u < 0.4:
      _spike(canvas, pen, rng, size)
    else:
      _shape(canvas, pen, rng, size)


def _frame_scene(canvas: Canvas, pen: Pen, rng, size: int) -> tuple[bool, float, float]:
  """An anime frame's scene (``make_pair``'s ``frames``): a night sky, a CG city,
  flat graphics, a floor or a drawing's background; dark clutter; from no
  character to several, drawn with lines; speed lines; overlays.  Returns how
  the line layer sits on the fills (``Canvas.result``): cel paint mostly, a
  colorist's now and then."""
  u = rng.uniform()
  if u < 0.45:
    _night(canvas, rng, size)
    canvas.scene = "night sky"
    if rng.uniform() < 0.45:
      _city(canvas, rng, size)
      canvas.scene = "city at night"
    if rng.uniform() < 0.5:
      _clutter(canvas, rng, size)
  elif u < 0.6:
    _background(canvas, rng, size)
    _city(canvas, rng, size)
    canvas.scene = "city"
  elif u < 0.75:
    canvas.fill_background(_rgb(rng, 0, 255))
    _graphic(canvas, rng, size)
    canvas.scene = "graphics"
  elif u < 0.88:
    _floor(canvas, rng, size)
    canvas.scene = "floor"
  else:
    _background(canvas, rng, size)
    canvas.scene = "background"
  if canvas.traced:  # figures in most frames: a screenshot is mostly drawn figures
    count = int(rng.integers(0, 3) if rng.uniform() < 0.25 else rng.integers(3, 12))
  else:
    count = int(rng.integers(0, 9))
  _characters(canvas, pen, rng, size, count)
  if rng.uniform() < 0.15:
    _speed_lines(canvas, pen, rng, size)
  for _ in range(int(rng.integers(1, 4)) if rng.uniform() < 0.25 else 0):
    _ink_spot(canvas, rng, size)
  for _ in range(int(rng.integers(0, 4)) if rng.uniform() < 0.2 else 0):
    _sparkle(canvas, rng, size)
  _frame_overlays(canvas, rng, size)
  if rng.uniform() < 0.3:
    return _paint_like_colorist(canvas, rng)
  return False, 1.0, 0.0


def make_pair(seed: int, index: int, size: int = 256, spread: float = 0.0,
              style: Style | None = None, frames: float = 0.0,
              kind: FrameKind = FrameKind(), info: dict | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
  """The pair (color (S, S, 3) uint8 RGB, line (S, S) uint8) for (seed, index).

  ``spread``: the fraction of pairs whose color image has its lines 0.4-1.2 px
  wider than the target's (a colorization network's; a model trained on them
  draws thinner lines, with fewer halos on real anime art, and less sure ones).
  ``style``: the line art's style (``lineart_jax.style``; None = the default);
  the color image is the same for every style.  ``frames``: the fraction of
  pairs that are anime frames (``_frame_scene``) rather than drawings; which
  ones is drawn apart (``FRAME_STREAM``), so the drawings are those of
  ``frames=0``.  ``kind``: how the frames are drawn (``FrameKind``: traced cels,
  their light, bright and soft shares); every drawing is the same whatever it is.
  ``info``: a dict to receive ``"scene"``, what the pair shows (one of ``SCENES``).
  """
  rng = np.random.default_rng([seed, index])
  canvas = Canvas(rng, size, style, np.random.default_rng([seed, index, STYLE_STREAM]))
  if frames and np.random.default_rng([seed, index, FRAME_STREAM]).uniform() < frames:
    canvas.traced = kind.traced
    color, line = canvas.result(*_frame_scene(canvas, Pen(rng, kind), rng, size))
    color = _degrade_frame(np.clip(color + 0.5, 0, 255).astype(np.uint8), rng, kind)
  else:
    color, line = _drawing(canvas, rng, size, spread)
  if info is not None:
    info["scene"] = canvas.scene
  return color, np.clip(line + 0.5, 0, 255).astype(np.uint8)


def _drawing(canvas: Canvas, rng, size: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
  """A drawing (``make_pair``'s pairs that are not anime frames): characters,
  loose strokes and marks on a background, colored and degraded; (color uint8,
  line float)."""
  _background(canvas, rng, size)
  pen = Pen(rng)
  _characters(canvas, pen, rng, size, int(rng.integers(4, 14)))
  for _ in range(int(rng.integers(0, 6))):  # loose strokes: hair tips, folds, details
    start = rng.uniform(0, 1, 2) * size
    pen.draw(canvas, _curve(rng, start, rng.uniform(0.05, 0.5) * size), None, detail=True)
  for _ in range(int(rng.integers(1, 4)) if rng.uniform() < 0.35 else 0):
    _ink_spot(canvas, rng, size)
  if rng.uniform() < 0.25:
    _blush(canvas, rng, size)
  for _ in range(int(rng.integers(0, 4)) if rng.uniform() < 0.25 else 0):
    _sparkle(canvas, rng, size)
  color, line = canvas.result(*_paint_like_colorist(canvas, rng, spread))
  return _degrade(np.clip(color + 0.5, 0, 255).astype(np.uint8), rng), line


def pair_style(seed: int, index: int, contours: float = 0.0) -> Style:
  """The style of pair (seed, index) in a styled dataset (``--styles``); in a
  fraction ``contours`` of the non-default ones, contours=all."""
  return sample_style(np.random.default_rng([seed, index, STYLE_STREAM + 1]), contours)


class SyntheticSource:
  """A random-access source of synthetic pairs (Grain ``MapDataset.source``).

  ``styles``: each pair's line art in its own random style (``pair_style``),
  given as ``style`` (the network's style vector) beside the images."""

  def __init__(self, seed: int = 0, size: int = 256, length: int = 1_000_000,
               styles: bool = False):
    self.seed, self.size, self.length, self.styles = seed, size, length, styles

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    style = pair_style(self.seed, int(index)) if self.styles else None
    color, line = make_pair(self.seed, int(index), self.size, style=style)
    out = {"color": color, "line": line}
    if style is not None:
      out["style"] = style.vector()
    return out

  def name(self, index: int) -> str:
    return f"{int(index):06d}.png"

  def __repr__(self) -> str:
    return (f"SyntheticSource(seed={self.seed}, size={self.size}, length={self.length}"
            f"{', styles' if self.styles else ''})")


def _write_one(out: str, seed: int, size: int, spread: float, styles: bool, frames: float,
               contours: float, kind: FrameKind, i: int) -> None:
  from lineart_jax.data.imageio import write_png
  color, line = make_pair(seed, i, size, spread,
                          pair_style(seed, i, contours) if styles else None, frames, kind)
  write_png(os.path.join(out, "color", f"{i:06d}.png"), color)
  write_png(os.path.join(out, "line", f"{i:06d}.png"), line)


def write_dataset(out: str, count: int, seed: int = 0, size: int = 256, start: int = 0,
                  workers: int = 0, spread: float = 0.0, styles: bool = False,
                  frames: float = 0.0, contours: float = 0.0,
                  kind: FrameKind = FrameKind()) -> None:
  """Writes ``count`` pairs as ``out/color/NNNNNN.png`` and ``out/line/NNNNNN.png``;
  with ``styles``, each line art in its pair's style, listed in ``out/style.tsv``
  (``contours``: the fraction of non-default styles with contours=all);
  ``frames``: the fraction of anime frames, ``kind`` how they are drawn
  (``make_pair``)."""
  from tqdm import tqdm
  from lineart_jax.data.pairs import write_styles
  write = functools.partial(_write_one, out, seed, size, spread, styles, frames, contours,
                            kind)
  indices = range(start, start + count)
  if styles:
    write_styles(out, {f"{i:06d}": pair_style(seed, i, contours) for i in indices})
  if workers > 0:
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
      for _ in tqdm(pool.imap_unordered(write, indices, chunksize=8), "synthetic", count):
        pass
  else:
    for i in tqdm(indices, "synthetic"):
      write(i)


def main(argv=None):
  p = argparse.ArgumentParser(description="Write synthetic (color, line) pairs in the "
                              "dataset layout OUT/color, OUT/line.")
  p.add_argument("out")
  p.add_argument("--count", type=int, default=100)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--size", type=int, default=256)
  p.add_argument("--start", type=int, default=0, help="index of the first pair")
  p.add_argument("--workers", type=int, default=0, help="generator processes (0 = this one)")
  p.add_argument("--spread", type=float, default=0.0,
                 help="fraction of pairs whose color image has wider lines than the target")
  p.add_argument("--styles", action="store_true",
                 help="each pair's line art in a random line style (weight, detail, tone, "
                 "blacks; lineart_jax.style), listed in OUT/style.tsv for training a model "
                 "with --config.model.style_dims=6")
  p.add_argument("--contours", type=float, default=0.0,
                 help="with --styles: the fraction of non-default styles drawn with "
                 "contours=all (every flat-color boundary a line)")
  p.add_argument("--frames", type=float, default=0.0,
                 help="fraction of pairs that are anime frames (night and CG scenes, flat "
                 "graphics, dark clutter, glows, letterbox bars, video degradations)")
  p.add_argument("--traced", action="store_true",
                 help="with --frames: traced frames (figures in most, thin one-tone lines, "
                 "drawn hair strands, soft frames)")
  p.add_argument("--light-traces", type=float, default=0.0,
                 help="with --traced: the fraction of the frames' colored lines drawn in a "
                 "light shade of the fill (0.5-0.85 of its luminance), as real frames draw many")
  p.add_argument("--bright-traces", type=float, default=0.0,
                 help="with --traced: the fraction of the frames' thin lines drawn brighter "
                 "than the fill where it is dark (rim lights, highlight traces), as real "
                 "frames draw many")
  p.add_argument("--soft-frames", type=float, default=SOFT_FRAMES,
                 help="with --traced: the fraction of the frames given a soft blur (sigma "
                 "0.4-1 px: camera blur, a soft upscaler)")
  args = p.parse_args(argv)
  for name in ("spread", "contours", "frames"):
    if not 0.0 <= getattr(args, name) <= 1.0:
      p.error(f"--{name.replace('_', '-')} must be a fraction in [0, 1], "
              f"not {getattr(args, name)}")
  if args.contours and not args.styles:
    p.error("--contours draws styles: add --styles")
  if args.traced and not args.frames:
    p.error("--traced is a kind of frame: add --frames")
  try:
    kind = FrameKind(args.traced, args.light_traces, args.bright_traces, args.soft_frames)
  except ValueError as e:
    p.error(f"--{e}")
  write_dataset(args.out, args.count, args.seed, args.size, args.start, args.workers,
                args.spread, args.styles, args.frames, args.contours, kind)
  print(f"wrote {args.count} pairs to {args.out}/color and {args.out}/line")


if __name__ == "__main__":
  main()
