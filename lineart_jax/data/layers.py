"""CLI: (color, line) pairs from artists' layered files (OpenRaster, Photoshop).

  python -m lineart_jax.data.layers SRC... --out ROOT [--line-layers REGEX] [--exclude REGEX]

Every drawing an artist colors sits in a layered file whose line layer IS the
line art of the flattened image: perfectly aligned pairs, which scraping never
gives.  For each file this writes ``ROOT/color/<name>.png`` (the document's
flattened image over white) and ``ROOT/line/<name>.png`` (the visible layers
whose name, or an enclosing group's name, matches ``--line-layers``, composited
in stack order with their offsets, opacity and visibility, over white, in gray):
the project's pair layout, ready for ``validate`` and ``prepare``.

Formats: OpenRaster ``.ora`` (zip: ``stack.xml``, layer PNGs,
``mergedimage.png``; groups are nested stacks), Krita ``.kra`` (zip:
``maindoc.xml``, paint layers in Krita's tiled format: 64x64 tiles, each
LZF-compressed with its bytes grouped by channel; ``mergedimage.png``) and
Photoshop ``.psd``/``.psb`` (with ``psd-tools``, the ``[layers]`` extra).  Blend
modes other than normal are composited as normal; line layers are normally.
Layers are decoded only when they are line layers (the color is the file's own
flattened image).

Hostile or broken files: every size is checked before anything is decoded (the
canvas and layer sizes the file declares, PNG and PSD headers, the zip's member
sizes and compression ratios), against ``Limits`` (``--max-pixels``,
``--max-unpacked-mb``, ``--max-zip-ratio``).  A file over a limit is skipped with
one line like any unusable file, and the rest of the folder is converted.

A file with no matching layer, whose line layers are empty, or whose merged
image differs in size from the canvas is reported (one line, with the layer
names it has) and skipped.  The summary counts made and skipped files; the exit
status is 1 when anything was skipped (or nothing was made).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib
from typing import Callable

import cv2
import numpy as np

from lineart_jax.data.imageio import ImageError, decode_bytes, write_png

DEFAULT_LINE_LAYERS = r"^\s*(line ?art|line-art|lines?|inks?|outlines?|線画|主線)(\s*\d+)?\s*$"
EXTENSIONS = (".ora", ".psd", ".psb", ".kra")


class LayeredFileError(ValueError):
  """A layered file that gives no pair; the message names the file and why."""


@dataclasses.dataclass(frozen=True)
class Limits:
  """What a layered file may declare before anything of it is decoded.

  The defaults admit any real illustration (a 10,000 x 10,000 canvas) and refuse
  decompression bombs: an ``.ora`` of a few MB whose layer PNGs declare
  20,000 x 20,000 pixels would otherwise take tens of GB of memory.
  """
  max_pixels: int = 100_000_000          # canvas, and each layer
  max_unpacked_bytes: int = 2 << 30      # the zip members read, as the directory declares them
  max_zip_ratio: float = 200.0           # uncompressed / compressed, members over 1 MiB

  def check_pixels(self, where: str, what: str, w: int, h: int) -> None:
    if w < 0 or h < 0 or w * h > self.max_pixels:
      raise LayeredFileError(f"{where}: {what} is {w}x{h} = {w * h:,} pixels, over the limit "
                             f"of {self.max_pixels:,} (--max-pixels); not decoded")


@dataclasses.dataclass
class Node:
  """A layer (``pixels`` straight-alpha RGBA uint8, or ``load`` that decodes them
  when first needed) or a group (``children``, bottom first)."""
  name: str
  visible: bool = True
  opacity: float = 1.0
  x: int = 0
  y: int = 0
  pixels: np.ndarray | None = None
  children: list["Node"] | None = None
  load: Callable[[], np.ndarray] | None = None

  def rgba(self) -> np.ndarray | None:
    if self.pixels is None and self.load is not None:
      self.pixels = self.load()
    return self.pixels

  def names(self) -> list[str]:
    out = [self.name]
    for c in self.children or []:
      out += c.names()
    return out


@dataclasses.dataclass
class Document:
  width: int
  height: int
  merged: np.ndarray  # RGBA uint8, the flattened image as the application saved it
  layers: list[Node]  # bottom first
  close: Callable[[], None] = lambda: None  # releases the file the layers load from

  def layer_names(self) -> list[str]:
    return [n for layer in self.layers for n in layer.names()]


# -- compositing ----------------------------------------------------------------
def _render(nodes: list[Node], select, w: int, h: int, matched: bool = False) -> tuple:
  """Premultiplied float RGBA (H, W, 4) of the selected visible layers, and their count."""
  buf = np.zeros((h, w, 4), np.float32)
  count = 0
  for node in nodes:
    if not node.visible or node.opacity <= 0:
      continue
    inside = matched or bool(select(node.name))
    if node.children is not None:
      sub, n = _render(node.children, select, w, h, inside)
    elif inside and node.rgba() is not None:
      sub, n = _place(node, w, h), 1
    else:
      continue
    count += n
    sub = sub * node.opacity
    buf = sub + buf * (1.0 - sub[..., 3:4])
  return buf, count


def _place(node: Node, w: int, h: int) -> np.ndarray:
  """The layer's premultiplied pixels on the canvas, at its offset, clipped."""
  out = np.zeros((h, w, 4), np.float32)
  px = node.pixels.astype(np.float32) / 255.0
  lh, lw = px.shape[:2]
  x0, y0 = max(node.x, 0), max(node.y, 0)
  x1, y1 = min(node.x + lw, w), min(node.y + lh, h)
  if x1 <= x0 or y1 <= y0:
    return out
  part = px[y0 - node.y:y1 - node.y, x0 - node.x:x1 - node.x]
  out[y0:y1, x0:x1, :3] = part[..., :3] * part[..., 3:4]
  out[y0:y1, x0:x1, 3] = part[..., 3]
  return out


def over_white(rgba: np.ndarray) -> np.ndarray:
  """Straight-alpha RGBA uint8 -> RGB uint8 over white."""
  a = rgba[..., 3:4].astype(np.float32) / 255.0
  rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
  return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def line_art(doc: Document, select) -> tuple[np.ndarray, int]:
  """(gray uint8 line art over white, number of line layers used)."""
  buf, count = _render(doc.layers, select, doc.width, doc.height)
  rgb = buf[..., :3] * 255.0 + 255.0 * (1.0 - buf[..., 3:4])  # premultiplied over white
  rgb = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
  return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), count


# -- readers --------------------------------------------------------------------
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_rgba(data: bytes, where: str, limits: Limits = Limits()) -> np.ndarray:
  """Straight-alpha RGBA uint8 of a layer PNG, through the image loader's guard
  (``imageio.decode_bytes``: refused from its header when over ``--max-pixels``).
  Only PNGs, whose header that guard always reads, are decoded."""
  if data[:8] != PNG_SIGNATURE:
    raise LayeredFileError(f"{where}: not a PNG")
  try:
    img = decode_bytes(np.frombuffer(data, np.uint8), where, limits.max_pixels,
                       "--max-pixels")
  except ImageError as e:
    raise LayeredFileError(str(e)) from e
  if img.ndim == 2:
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
  elif img.shape[2] == 3:
    img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
  return np.ascontiguousarray(img[..., [2, 1, 0, 3]])


class _Zip:
  """A zip archive whose members are read only within ``Limits``, judged from the
  zip directory (the sizes it declares bound what Python's zipfile returns)."""

  MiB = 1 << 20

  def __init__(self, path: str, limits: Limits):
    self.path, self.limits, self.unpacked = path, limits, 0
    self.zip = zipfile.ZipFile(path)

  def read(self, name: str) -> bytes:
    info = self.zip.getinfo(name)
    where = f"{self.path}:{name}"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > self.MiB and ratio > self.limits.max_zip_ratio:
      raise LayeredFileError(f"{where}: unpacks {ratio:,.0f}x ({info.compress_size:,} -> "
                             f"{info.file_size:,} bytes), over the limit of "
                             f"{self.limits.max_zip_ratio:g}x (--max-zip-ratio); not read")
    self.unpacked += info.file_size
    if self.unpacked > self.limits.max_unpacked_bytes:
      raise LayeredFileError(f"{where}: the members read so far unpack to {self.unpacked:,} "
                             f"bytes, over the limit of {self.limits.max_unpacked_bytes:,} "
                             "(--max-unpacked-mb); not read")
    return self.zip.read(info)

  def png(self, name: str) -> np.ndarray:
    return _png_rgba(self.read(name), f"{self.path}:{name}", self.limits)

  def close(self):
    self.zip.close()


def _read_zip_document(path: str, limits: Limits, kind: str, parse) -> "Document":
  try:
    archive = _Zip(path, limits)
  except (zipfile.BadZipFile, OSError) as e:
    raise LayeredFileError(f"{path}: not a readable {kind} file ({e})") from e
  try:
    doc = parse(archive)
    doc.close = archive.close  # layers are read from it when drawn
    return doc
  except (zipfile.BadZipFile, KeyError, ET.ParseError, TypeError, ValueError, EOFError) as e:
    if isinstance(e, LayeredFileError):
      raise
    raise LayeredFileError(f"{path}: not a readable {kind} file ({e})") from e


def _canvas(path: str, limits: Limits, w, h) -> tuple[int, int]:
  w, h = int(w), int(h)
  limits.check_pixels(path, "the canvas", w, h)
  return w, h


def read_ora(path: str, limits: Limits = Limits()) -> Document:
  """An OpenRaster file: ``stack.xml`` (top layer first), layer PNGs, ``mergedimage.png``."""

  def parse(z: _Zip) -> Document:
    root = ET.fromstring(z.read("stack.xml"))
    w, h = _canvas(path, limits, root.get("w"), root.get("h"))

    def stack(element) -> list[Node]:
      nodes = []
      for child in element:
        common = dict(name=child.get("name", ""), visible=child.get("visibility",
                                                                    "visible") != "hidden",
                      opacity=float(child.get("opacity", 1.0)))
        if child.tag == "stack":
          nodes.append(Node(children=stack(child), **common))
        elif child.tag == "layer" and child.get("src", "").lower().endswith(".png"):
          src = child.get("src")
          z.zip.getinfo(src)  # a missing member is an error now, not when drawn
          nodes.append(Node(x=int(float(child.get("x", 0))), y=int(float(child.get("y", 0))),
                            load=lambda src=src: z.png(src), **common))
      return nodes[::-1]  # stack.xml lists the top first

    top = root.find("stack")
    layers = stack(top) if top is not None else []
    return Document(w, h, z.png("mergedimage.png"), layers)

  return _read_zip_document(path, limits, "OpenRaster", parse)


# -- Krita ----------------------------------------------------------------------
def lzf_decompress(data: bytes, size: int) -> bytes:
  """liblzf's format (what Krita compresses tiles with): a control byte below 32
  starts a run of ctrl+1 literal bytes; otherwise ``len = ctrl >> 5`` (7: plus
  the next byte) and a back-reference of len+2 bytes at distance
  ``((ctrl & 31) << 8) + next byte + 1``.  Raises ValueError on malformed data."""
  out = bytearray()
  ip, n = 0, len(data)
  while ip < n:
    ctrl = data[ip]
    ip += 1
    if ctrl < 32:
      run = ctrl + 1
      if ip + run > n:
        raise ValueError("LZF literal run past the end of the data")
      out += data[ip:ip + run]
      ip += run
    else:
      length = ctrl >> 5
      if length == 7:
        length += data[ip]
        ip += 1
      if ip >= n:
        raise ValueError("LZF back-reference past the end of the data")
      ref = len(out) - ((ctrl & 0x1F) << 8) - data[ip] - 1
      ip += 1
      length += 2
      if ref < 0:
        raise ValueError("LZF back-reference before the start of the data")
      period = len(out) - ref
      chunk = out[ref:ref + min(length, period)]
      out += (chunk * (length // period + 1))[:length] if period < length else chunk
    if len(out) > size:
      raise ValueError(f"LZF data unpacks past {size} bytes")
  if len(out) != size:
    raise ValueError(f"LZF data unpacks to {len(out)} bytes, not {size}")
  return bytes(out)


# Krita's 8-bit color spaces, stored per pixel in this byte order: channel -> RGBA index
_KRITA_CHANNELS = {"RGBA": (2, 1, 0, 3), "GRAYA": (0, 3)}  # BGRA; gray, alpha


def _kra_tiles(data: bytes, where: str, colorspace: str, limits: Limits
               ) -> tuple[np.ndarray, int, int] | None:
  """(RGBA uint8, x, y of its top-left) of a Krita paint layer file ("VERSION 2":
  a text header, then per tile ``x,y,LZF,n`` and n bytes: a flag (1: LZF of the
  tile's bytes grouped by channel, 0: raw pixels) and the data); None if empty."""
  order = _KRITA_CHANNELS.get(colorspace)
  if order is None:
    raise LayeredFileError(f"{where}: color space {colorspace!r} is not read (8-bit RGBA and "
                           "gray only); convert the line layer in Krita (Image > Convert "
                           "Image Color Space, RGB 8-bit)")
  header, pos = {}, 0
  for _ in range(5):
    end = data.index(b"\n", pos)
    key, _, value = data[pos:end].decode("ascii").partition(" ")
    header[key], pos = value.strip(), end + 1
  if header.get("VERSION") != "2":
    raise LayeredFileError(f"{where}: Krita tile format version {header.get('VERSION')!r} "
                           "is not read (version 2 only: Krita 2.3 and later)")
  tw, th, px = int(header["TILEWIDTH"]), int(header["TILEHEIGHT"]), int(header["PIXELSIZE"])
  count = int(header["DATA"])
  if px != len(order) or tw <= 0 or th <= 0:
    raise LayeredFileError(f"{where}: {px} bytes per pixel do not fit color space "
                           f"{colorspace!r}")
  limits.check_pixels(where, f"the layer's {count} tiles", tw * th, count)
  tiles = []
  for _ in range(count):
    end = data.index(b"\n", pos)
    x, y, method, n = data[pos:end].decode("ascii").split(",")
    pos = end + 1
    if method != "LZF":
      raise LayeredFileError(f"{where}: tile compression {method!r} is not read")
    tiles.append((int(x), int(y), data[pos:pos + int(n)]))
    pos += int(n)
  if not tiles:
    return None
  x0, y0 = min(t[0] for t in tiles), min(t[1] for t in tiles)
  w, h = max(t[0] for t in tiles) + tw - x0, max(t[1] for t in tiles) + th - y0
  limits.check_pixels(where, "the layer", w, h)
  out = np.zeros((h, w, 4), np.uint8)
  size = tw * th * px
  for x, y, blob in tiles:
    if blob[:1] == b"\x01":
      tile = np.frombuffer(lzf_decompress(blob[1:], size), np.uint8).reshape(px, th, tw)
      tile = tile.transpose(1, 2, 0)  # bytes were grouped by channel
    else:
      if len(blob) - 1 != size:
        raise LayeredFileError(f"{where}: a raw tile of {len(blob) - 1} bytes, not {size}")
      tile = np.frombuffer(blob[1:], np.uint8).reshape(th, tw, px)
    dst = out[y - y0:y - y0 + th, x - x0:x - x0 + tw]
    if len(order) == 4:
      dst[..., :] = tile[..., list(order)]
    else:
      dst[..., :3] = tile[..., :1]
      dst[..., 3] = tile[..., 1]
  return out, x0, y0


def read_kra(path: str, limits: Limits = Limits()) -> Document:
  """A Krita file: ``maindoc.xml`` (layer tree, top first), tiled paint layers,
  ``mergedimage.png`` (Krita's flattened image, the color)."""

  def parse(z: _Zip) -> Document:
    root = ET.fromstring(z.read("maindoc.xml"))
    ns = lambda tag: root.tag.split("}")[0] + "}" + tag if root.tag.startswith("{") else tag
    image = root.find(ns("IMAGE"))
    if image is None:
      raise LayeredFileError(f"{path}: maindoc.xml has no IMAGE")
    w, h = _canvas(path, limits, image.get("width"), image.get("height"))
    members = z.zip.namelist()

    def layer_file(filename: str) -> str:
      wanted = [m for m in members if m.endswith("/layers/" + filename)]
      if not wanted:
        raise LayeredFileError(f"{path}: layer file {filename!r} is missing")
      return wanted[0]

    def stack(element) -> list[Node]:
      nodes = []
      for child in element.findall(ns("layer")):
        common = dict(name=child.get("name", ""), visible=child.get("visible", "1") != "0",
                      opacity=float(child.get("opacity", 255)) / 255.0)
        kind = child.get("nodetype", child.get("layertype", ""))
        if kind == "grouplayer":
          sub = child.find(ns("layers"))
          nodes.append(Node(children=stack(sub) if sub is not None else [], **common))
        elif kind == "paintlayer":
          member, space = layer_file(child.get("filename", "")), child.get("colorspacename")
          dx, dy = int(float(child.get("x", 0))), int(float(child.get("y", 0)))
          node = Node(x=dx, y=dy, **common)

          def load(node=node, member=member, space=space, dx=dx, dy=dy):
            tiles = _kra_tiles(z.read(member), f"{path}:{member}", space, limits)
            if tiles is None:
              return np.zeros((1, 1, 4), np.uint8)
            rgba, x0, y0 = tiles
            node.x, node.y = dx + x0, dy + y0  # tiles sit in the layer's own coordinates
            return rgba
          node.load = load
          nodes.append(node)
      return nodes[::-1]  # maindoc.xml lists the top first

    top = image.find(ns("layers"))
    layers = stack(top) if top is not None else []
    return Document(w, h, z.png("mergedimage.png"), layers)

  return _read_zip_document(path, limits, "Krita", parse)


def _psd_size(path: str) -> tuple[int, int]:
  """(W, H) from a Photoshop header: '8BPS', version, 6 reserved bytes, channels,
  height, width (big-endian), read before psd-tools decodes anything."""
  with open(path, "rb") as f:
    head = f.read(26)
  if len(head) < 26 or head[:4] != b"8BPS":
    raise LayeredFileError(f"{path}: not a Photoshop file (no 8BPS header)")
  return int.from_bytes(head[18:22], "big"), int.from_bytes(head[14:18], "big")


def read_psd(path: str, limits: Limits = Limits()) -> Document:
  """A Photoshop file via psd-tools: the saved composite and the layer tree."""
  limits.check_pixels(path, "the canvas", *_psd_size(path))
  try:
    from psd_tools import PSDImage
  except ImportError as e:
    raise LayeredFileError(f"{path}: reading .psd needs psd-tools: pip install "
                           "'lineart_jax[layers]'") from e
  try:
    psd = PSDImage.open(path)
  except Exception as e:  # psd-tools raises many kinds on bad files
    raise LayeredFileError(f"{path}: not a readable Photoshop file ({e})") from e

  def pixels(layer) -> np.ndarray | None:
    limits.check_pixels(f"{path}: layer {layer.name!r}", "the layer", layer.width,
                        layer.height)
    img = layer.topil()
    return None if img is None else np.asarray(img.convert("RGBA"))

  def nodes(group) -> list[Node]:
    out = []
    for layer in group:  # psd-tools iterates bottom first
      common = dict(name=layer.name, visible=layer.visible, opacity=layer.opacity / 255.0)
      if layer.is_group():
        out.append(Node(children=nodes(layer), **common))
      else:
        out.append(Node(x=layer.left, y=layer.top, load=lambda layer=layer: pixels(layer),
                        **common))
    return out

  merged = psd.composite()
  return Document(psd.width, psd.height, np.asarray(merged.convert("RGBA")), nodes(psd))


def read_document(path: str, limits: Limits = Limits()) -> Document:
  ext = os.path.splitext(path)[1].lower()
  if ext == ".ora":
    return read_ora(path, limits)
  if ext in (".psd", ".psb"):
    return read_psd(path, limits)
  if ext == ".kra":
    return read_kra(path, limits)
  raise LayeredFileError(f"{path}: unknown layered format {ext!r} (use .ora, .kra or .psd)")


def make_pair(path: str, line_layers: str = DEFAULT_LINE_LAYERS, exclude: str | None = None,
              limits: Limits = Limits()) -> tuple[np.ndarray, np.ndarray]:
  """(color RGB uint8, line gray uint8) of one layered file; raises LayeredFileError."""
  doc = read_document(path, limits)
  try:
    pattern, skip = re.compile(line_layers, re.I), re.compile(exclude, re.I) if exclude else None
    select = lambda name: bool(pattern.search(name)) and not (skip and skip.search(name))
    names = ", ".join(repr(n) for n in doc.layer_names())
    if doc.merged.shape[:2] != (doc.height, doc.width):
      raise LayeredFileError(
          f"{path}: merged image is {doc.merged.shape[1]}x{doc.merged.shape[0]} but the canvas "
          f"is {doc.width}x{doc.height}, so the layers cannot be aligned to it")
    try:
      line, count = line_art(doc, select)
    except LayeredFileError:
      raise
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error) as e:
      raise LayeredFileError(f"{path}: a line layer cannot be read ({e})") from e
  finally:
    doc.close()
  if count == 0:
    raise LayeredFileError(f"{path}: no visible layer matches --line-layers; its layers: "
                           f"{names}")
  if line.min() == 255:
    raise LayeredFileError(f"{path}: its line layers are empty; its layers: {names}")
  return over_white(doc.merged), line


def convert(files: list[str], out: str, line_layers: str = DEFAULT_LINE_LAYERS,
            exclude: str | None = None, limits: Limits = Limits(),
            name: Callable[[str], str] | None = None) -> tuple[int, list[str]]:
  """Writes ``out/color/<name>.png`` and ``out/line/<name>.png`` for each layered
  file: (pairs made, one message per file skipped).  ``name(path)`` is called for
  each file that gives a pair (default: the file's name without extension)."""
  made, skipped = 0, []
  for path in files:
    try:
      color, line = make_pair(path, line_layers, exclude, limits)
      stem = name(path) if name else os.path.splitext(os.path.basename(path))[0]
      write_png(os.path.join(out, "color", stem + ".png"), color)
      write_png(os.path.join(out, "line", stem + ".png"), line)
      made += 1
    except (LayeredFileError, ImageError, OSError) as e:
      skipped.append(str(e))
  return made, skipped


def find_files(sources: list[str]) -> list[str]:
  files = []
  for src in sources:
    if os.path.isdir(src):
      files += sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs
                      if os.path.splitext(f)[1].lower() in EXTENSIONS)
    else:
      files.append(src)
  return files


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description="Make (color, line) pairs from layered files "
                              "(.ora, .kra, .psd): ROOT/color/<name>.png + ROOT/line/<name>.png.")
  p.add_argument("sources", nargs="+", help="layered files or folders of them")
  p.add_argument("--out", required=True, help="dataset root to write")
  p.add_argument("--line-layers", default=DEFAULT_LINE_LAYERS,
                 help="regex (case-insensitive) of line layer or group names "
                 "(default: line, lines, lineart, line art, ink, outline, 線画, 主線)")
  p.add_argument("--exclude", help="regex of layer names never taken as line art")
  p.add_argument("--max-pixels", type=int, default=Limits.max_pixels,
                 help="largest canvas or layer a file may declare, in pixels "
                 "(default %(default)s); larger files are skipped before decoding")
  p.add_argument("--max-unpacked-mb", type=float, default=Limits.max_unpacked_bytes / 2**20,
                 help="most a file's zip members may unpack to, in MiB (default %(default)g)")
  p.add_argument("--max-zip-ratio", type=float, default=Limits.max_zip_ratio,
                 help="highest compression ratio of a zip member over 1 MiB "
                 "(default %(default)g)")
  args = p.parse_args(argv)
  limits = Limits(max_pixels=args.max_pixels,
                  max_unpacked_bytes=int(args.max_unpacked_mb * 2**20),
                  max_zip_ratio=args.max_zip_ratio)
  for regex in (args.line_layers, args.exclude):
    try:
      re.compile(regex or "")
    except re.error as e:
      p.error(f"bad regex {regex!r}: {e}")
  made, skipped = convert(find_files(args.sources), args.out, args.line_layers, args.exclude,
                          limits)
  for message in skipped:
    print(f"skipped: {message}", file=sys.stderr)
  skipped = len(skipped)
  print(f"{made} pairs made in {args.out}, {skipped} files skipped")
  return 0 if made and not skipped else 1


if __name__ == "__main__":
  sys.exit(main())
