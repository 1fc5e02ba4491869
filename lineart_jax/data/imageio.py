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


# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic...):
# C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(b: bytes) -> tuple[int, int] | None:
  """(H, W) from the first SOF segment of a JPEG, walking the marker segments."""
  i = 2
  while i + 4 <= len(b):
    if b[i] != 0xFF:
      return None
    marker = b[i + 1]
    if marker == 0xFF:  # fill byte
      i += 1
      continue
    if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
      i += 2
      continue
    length = int.from_bytes(b[i + 2:i + 4], "big")
    if marker in _JPEG_SOF and i + 9 <= len(b):
      return int.from_bytes(b[i + 5:i + 7], "big"), int.from_bytes(b[i + 7:i + 9], "big")
    if marker == 0xDA or length < 2:  # start of scan before any frame header
      return None
    i += 2 + length
  return None


def _webp_size(b: bytes) -> tuple[int, int] | None:
  """(H, W) from a WebP's VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk."""
  chunk = b[12:16]
  if chunk == b"VP8X" and len(b) >= 30:
    return int.from_bytes(b[27:30], "little") + 1, int.from_bytes(b[24:27], "little") + 1
  if chunk == b"VP8L" and len(b) >= 25 and b[20] == 0x2F:
    bits = int.from_bytes(b[21:25], "little")
    return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
  if chunk == b"VP8 " and len(b) >= 30 and b[23:26] == b"\x9d\x01\x2a":
    return (int.from_bytes(b[28:30], "little") & 0x3FFF,
            int.from_bytes(b[26:28], "little") & 0x3FFF)
  return None


def _header_size(data: np.ndarray) -> tuple[int, int] | None:
  """(H, W) read from a PNG, BMP, JPEG or WebP header, so that a decompression
  bomb is refused before the decoder allocates anything.  Other formats (and
  headers this cannot parse) are checked right after decoding."""
  head = data[:65536].tobytes()  # JPEG frame headers follow EXIF/ICC segments
  if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
    return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
  if head[:2] == b"BM" and len(head) >= 26:
    w, h = np.frombuffer(head[18:26], "<i4")
    return abs(int(h)), int(w)
  if head[:2] == b"\xff\xd8":
    return _jpeg_size(head)
  if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
    return _webp_size(head)
  return None


def _decode(path: str, max_pixels: int | None) -> np.ndarray:
  try:
    data = np.fromfile(path, np.uint8)
  except OSError as e:
    raise ImageError(f"{path}: cannot read file ({e.strerror or e})") from e
  return decode_bytes(data, path, max_pixels)


def decode_bytes(data: np.ndarray, where: str, max_pixels: int | None = None,
                 limit_name: str = "LINEART_MAX_PIXELS") -> np.ndarray:
  """OpenCV's decode (gray/BGR/BGRA, 8-bit) of an encoded image held in memory,
  refused before decoding when its header declares more than ``max_pixels``
  (default ``MAX_PIXELS``).  ``where`` names it in errors (a file, or a member of
  an archive); ``limit_name`` is the setting that raises the limit."""
  max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
  if data.size == 0:
    raise ImageError(f"{where}: empty file")
  size = _header_size(data)
  if size is not None and size[0] * size[1] > max_pixels:
    raise ImageError(f"{where}: {size[1]}x{size[0]} = {size[0] * size[1]:,} pixels exceeds "
                     f"the limit of {max_pixels:,} ({limit_name})")
  img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
  if img is None:
    raise ImageError(f"{where}: not a decodable image (truncated or unsupported format)")
  if img.shape[0] * img.shape[1] > max_pixels:
    raise ImageError(f"{where}: {img.shape[1]}x{img.shape[0]} exceeds the limit of "
                     f"{max_pixels:,} pixels ({limit_name})")
  if img.dtype == np.uint16:
    img = (img.astype(np.uint32) * 255 // 65535).astype(np.uint8)
  elif img.dtype != np.uint8:
    raise ImageError(f"{where}: unsupported pixel type {img.dtype}")
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
