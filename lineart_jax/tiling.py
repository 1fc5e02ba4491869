"""Tiled inference whose result equals the untiled one, with bounded memory.

The network is translation-equivariant at multiples of its stride (8) and each
output pixel sees input pixels at most ``RECEPTIVE_RADIUS`` away (75 up/left and
81 down/right, measured by back-propagating one output pixel; 88 rounds that up
for every stride phase; edge maps add their widest window's radius, at most
``MAX_EDGE_SCALES``, the dark line tone ``TONE_RADIUS``; the skip architecture's
full-resolution path sees less far).
So:

1. pad the image at the bottom/right by edge replication to a multiple of 8,
   exactly as ``AutoEncoder`` does for an untiled call;
2. cut it into fixed ``tile`` x ``tile`` windows starting at multiples of 8, the
   last window of a row/column flush with the padded edge, neighbours
   overlapping by at least ``2 * MARGIN``;
3. keep from each window only the part closer to its centre than to the
   neighbouring window's (the middle of each overlap is the seam).

Every kept pixel is then more than ``MARGIN`` >= the receptive radius from any
cut, and windows at the image border see the same zero 'SAME' padding as the
untiled network, so the tiled output equals the untiled output up to float
rounding.  A side shorter than the tile uses the (8-padded) side itself, so small
images run untiled.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from lineart_jax.model import MAX_EDGE_SCALES, STRIDE_PRODUCT, TONE_RADIUS

RECEPTIVE_RADIUS = 88 + MAX_EDGE_SCALES + TONE_RADIUS
MARGIN = 96  # a multiple of the stride, >= RECEPTIVE_RADIUS


def round_up(n: int, k: int = STRIDE_PRODUCT) -> int:
  return -(-n // k) * k


def pad_to_multiple(images: np.ndarray, multiple: int = STRIDE_PRODUCT
                    ) -> tuple[np.ndarray, tuple[int, int]]:
  """(images (..., H, W, C) edge-padded at the bottom/right to multiples of
  ``multiple``, their (H, W)): what ``AutoEncoder`` does for an untiled call, and
  what callers of an exported model must do (they take multiples of 8)."""
  h, w = images.shape[-3:-1]
  ph, pw = -h % multiple, -w % multiple
  if ph or pw:
    pads = [(0, 0)] * (images.ndim - 3) + [(0, ph), (0, pw), (0, 0)]
    images = np.pad(images, pads, mode="edge")
  return images, (h, w)


def window_starts(length: int, tile: int, margin: int = MARGIN) -> list[int]:
  """Starts (multiples of 8) of windows covering ``length`` (already padded to 8)."""
  if length <= tile:
    return [0]
  step = (tile - 2 * margin) // STRIDE_PRODUCT * STRIDE_PRODUCT
  if step <= 0:
    raise ValueError(f"tile {tile} is too small for margin {margin}")
  starts = list(range(0, length - tile, step)) + [length - tile]
  return sorted(set(starts))


def seams(starts: list[int], tile: int, length: int) -> list[tuple[int, int]]:
  """(begin, end) of the output span each window keeps."""
  spans = []
  for i, s in enumerate(starts):
    begin = 0 if i == 0 else (starts[i - 1] + tile + s) // 2
    end = length if i == len(starts) - 1 else (s + tile + starts[i + 1]) // 2
    spans.append((begin, end))
  return spans


def tiles(height: int, width: int, tile: int) -> Iterator[tuple[tuple[int, int], tuple[int, int],
                                                              tuple[int, int]]]:
  """Yields ((y, x) window start, (y0, y1) kept rows, (x0, x1) kept columns)."""
  h8, w8 = round_up(height), round_up(width)
  ys, xs = window_starts(h8, tile), window_starts(w8, tile)
  for y, (y0, y1) in zip(ys, seams(ys, min(tile, h8), h8)):
    for x, (x0, x1) in zip(xs, seams(xs, min(tile, w8), w8)):
      yield (y, x), (y0, y1), (x0, x1)


def count_tiles(height: int, width: int, tile: int) -> int:
  return (len(window_starts(round_up(height), tile))
          * len(window_starts(round_up(width), tile)))


def predict_tiled(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray],
                  tile: int = 768, batch: int = 1, on_tile: Callable[[], None] | None = None
                  ) -> np.ndarray:
  """Line art (H, W) float32 of uint8 RGB ``image`` (H, W, 3).

  ``predict`` maps a uint8 batch (B, th, tw, 3) to (B, th, tw) floats; every call
  has the same shape for a given image size, so it compiles once.
  """
  return predict_tiled_many([image], predict, tile, batch, on_tile)[0]


def predict_tiled_many(images: list[np.ndarray], predict: Callable[[np.ndarray], np.ndarray],
                       tile: int = 768, batch: int = 1,
                       on_tile: Callable[[], None] | None = None) -> list[np.ndarray]:
  """``predict_tiled`` of several images of one size, their tiles sharing batches:
  a batch of ``batch`` tiles may hold tiles of consecutive images, so small images
  (one tile each, video frames) fill a device call as one large image does.  The
  result of each image is the same as alone (each tile is computed independently).
  """
  if tile % STRIDE_PRODUCT:
    raise ValueError(f"tile {tile} must be a multiple of {STRIDE_PRODUCT}")
  if not images:
    return []
  shape = images[0].shape
  if any(im.shape != shape for im in images):
    raise ValueError(f"predict_tiled_many takes images of one size, got "
                     f"{sorted({im.shape for im in images})}")
  padded = [pad_to_multiple(im)[0] for im in images]
  h, w = shape[:2]
  h8, w8 = padded[0].shape[:2]
  th, tw = min(tile, h8), min(tile, w8)
  outs = [np.empty((h8, w8), np.float32) for _ in images]
  jobs = [(i, *t) for i in range(len(images)) for t in tiles(h, w, tile)]
  for start in range(0, len(jobs), batch):
    chunk = jobs[start:start + batch]
    windows = [padded[i][y:y + th, x:x + tw] for i, (y, x), _, _ in chunk]
    while len(windows) < batch:  # a fixed batch shape: pad the last batch
      windows.append(windows[-1])
    preds = predict(np.stack(windows))
    for (i, (y, x), (y0, y1), (x0, x1)), pred in zip(chunk, preds):
      outs[i][y0:y1, x0:x1] = pred[y0 - y:y1 - y, x0 - x:x1 - x]
      if on_tile:
        on_tile()
  return [out[:h, :w] for out in outs]
