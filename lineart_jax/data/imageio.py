"""Decoding images with OpenCV into the two forms the project uses.

* color: (H, W, 3) uint8 RGB.  RGBA is composited over white (transparent areas
  of illustrations are paper), 16-bit is reduced to 8-bit, gray becomes 3 channels.
* line: (H, W) uint8 gray, ink dark, paper white; RGBA is composited over white.

Every failure raises ``ImageError`` naming the file and the problem.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
# Decompression-bomb guard: refuse images above this many pixels (about
# 17k x 17k) before decoding them.  Override with LINEART_MAX_PIXELS.
MAX_PIXELS = int(os.environ.get("LINEART_MAX_PIXELS", 300_000_000))


class ImageError(ValueError):
  """An image that cannot be used; the message names the file and the problem."""


def _header_size(path: str, data: np.ndarray) -> tuple[int, int] | None:
  """(H, W) read from a PNG or BMP header, so a bomb is refused before decoding.

  Other formats are checked right after decoding.
  """
  try:
    if data[:8].tobytes() == b"\x89PNG\r\n\x1a\n" and data.size >= 24:
      w, h = np.frombuffer(data[16:24].tobytes(), ">u4")
      return int(h), int(w)
    if data[:2].tobytes() == b"BM" and data.size >= 26:
      w, h = np.frombuffer(data[18:26].tobytes(), "<i4")
      return abs(int(h)), int(w)
  except (ValueError, IndexError):
    return None
  return None


def _decode(path: str, max_pixels: int | None) -> np.ndarray:
  max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
  try:
    data = np.fromfile(path, np.uint8)
  except OSError as e:
    raise ImageError(f"{path}: cannot read file ({e.strerror or e})") from e
  if data.size == 0:
    raise ImageError(f"{path}: empty file")
  size = _header_size(path, data)
  if size is not None and size[0] * size[1] > max_pixels:
    raise ImageError(f"{path}: {size[1]}x{size[0]} = {size[0] * size[1]:,} pixels exceeds "
                     f"the limit of {max_pixels:,} (LINEART_MAX_PIXELS)")
  img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
  if img is None:
    raise ImageError(f"{path}: not a decodable image (truncated or unsupported format)")
  if img.shape[0] * img.shape[1] > max_pixels:
    raise ImageError(f"{path}: {img.shape[1]}x{img.shape[0]} exceeds the limit of "
                     f"{max_pixels:,} pixels (LINEART_MAX_PIXELS)")
  if img.dtype == np.uint16:
    img = (img.astype(np.uint32) * 255 // 65535).astype(np.uint8)
  elif img.dtype != np.uint8:
    raise ImageError(f"{path}: unsupported pixel type {img.dtype}")
  return img


def _over_white(img: np.ndarray) -> np.ndarray:
  """Composites a BGRA image over white; returns BGR."""
  alpha = img[..., 3:4].astype(np.float32) / 255.0
  out = img[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
  return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def to_rgb(img: np.ndarray) -> np.ndarray:
  """OpenCV's decoded gray/BGR/BGRA -> RGB uint8 (H, W, 3)."""
  if img.ndim == 2:
    return np.repeat(img[..., None], 3, axis=2)
  if img.shape[2] == 4:
    img = _over_white(img)
  elif img.shape[2] == 1:
    return np.repeat(img, 3, axis=2)
  return np.ascontiguousarray(img[..., ::-1])


def to_gray(img: np.ndarray) -> np.ndarray:
  """OpenCV's decoded gray/BGR/BGRA -> gray uint8 (H, W)."""
  if img.ndim == 2:
    return img
  if img.shape[2] == 4:
    img = _over_white(img)
  if img.shape[2] == 1:
    return img[..., 0]
  return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def read_color(path: str, max_pixels: int | None = None) -> np.ndarray:
  return to_rgb(_decode(path, max_pixels))


def read_line(path: str, max_pixels: int | None = None) -> np.ndarray:
  return to_gray(_decode(path, max_pixels))


def write_png(path: str, img: np.ndarray) -> None:
  """Writes RGB (H, W, 3) or gray (H, W) uint8 as PNG, creating folders."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if img.ndim == 3 and img.shape[2] == 3:
    img = img[..., ::-1]
  if not cv2.imwrite(path, img):
    raise ImageError(f"{path}: could not write image")
