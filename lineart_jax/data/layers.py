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
``mergedimage.png``; groups are nested stacks) and Photoshop ``.psd``/``.psb``
(with ``psd-tools``, the ``[layers]`` extra).  Krita ``.kra`` files are not read:
their layers are in Krita's own tiled, LZF-compressed format; export them as
OpenRaster from Krita (File > Export, .ora), which keeps every layer.  Blend
modes other than normal are composited as normal; line layers are normally.

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

import cv2
import numpy as np

from lineart_jax.data.imageio import ImageError, write_png

DEFAULT_LINE_LAYERS = r"^\s*(line ?art|line-art|lines?|inks?|outlines?|線画|主線)(\s*\d+)?\s*$"
EXTENSIONS = (".ora", ".psd", ".psb", ".kra")


class LayeredFileError(ValueError):
  """A layered file that gives no pair; the message names the file and why."""


@dataclasses.dataclass
class Node:
  """A layer (``pixels`` straight-alpha RGBA uint8) or a group (``children``, bottom first)."""
  name: str
  visible: bool = True
  opacity: float = 1.0
  x: int = 0
  y: int = 0
  pixels: np.ndarray | None = None
  children: list["Node"] | None = None

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
    elif inside and node.pixels is not None:
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
def _png_rgba(data: bytes, where: str) -> np.ndarray:
  img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
  if img is None:
    raise LayeredFileError(f"{where}: not a decodable PNG")
  if img.dtype == np.uint16:
    img = (img.astype(np.uint32) * 255 // 65535).astype(np.uint8)
  if img.ndim == 2:
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
  elif img.shape[2] == 3:
    img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
  return np.ascontiguousarray(img[..., [2, 1, 0, 3]])


def read_ora(path: str) -> Document:
  """An OpenRaster file: ``stack.xml`` (top layer first), layer PNGs, ``mergedimage.png``."""
  try:
    with zipfile.ZipFile(path) as z:
      root = ET.fromstring(z.read("stack.xml"))
      w, h = int(root.get("w")), int(root.get("h"))

      def stack(element) -> list[Node]:
        nodes = []
        for child in element:
          common = dict(name=child.get("name", ""), visible=child.get("visibility",
                                                                      "visible") != "hidden",
                        opacity=float(child.get("opacity", 1.0)))
          if child.tag == "stack":
            nodes.append(Node(children=stack(child), **common))
          elif child.tag == "layer" and child.get("src", "").lower().endswith(".png"):
            nodes.append(Node(x=int(float(child.get("x", 0))), y=int(float(child.get("y", 0))),
                              pixels=_png_rgba(z.read(child.get("src")),
                                               f"{path}:{child.get('src')}"), **common))
        return nodes[::-1]  # stack.xml lists the top first

      top = root.find("stack")
      layers = stack(top) if top is not None else []
      merged = _png_rgba(z.read("mergedimage.png"), f"{path}:mergedimage.png")
  except (zipfile.BadZipFile, KeyError, ET.ParseError, TypeError, ValueError) as e:
    if isinstance(e, LayeredFileError):
      raise
    raise LayeredFileError(f"{path}: not a readable OpenRaster file ({e})") from e
  return Document(w, h, merged, layers)


def read_psd(path: str) -> Document:
  """A Photoshop file via psd-tools: the saved composite and the layer tree."""
  try:
    from psd_tools import PSDImage
  except ImportError as e:
    raise LayeredFileError(f"{path}: reading .psd needs psd-tools: pip install "
                           "'lineart_jax[layers]'") from e
  try:
    psd = PSDImage.open(path)
  except Exception as e:  # psd-tools raises many kinds on bad files
    raise LayeredFileError(f"{path}: not a readable Photoshop file ({e})") from e

  def nodes(group) -> list[Node]:
    out = []
    for layer in group:  # psd-tools iterates bottom first
      common = dict(name=layer.name, visible=layer.visible, opacity=layer.opacity / 255.0)
      if layer.is_group():
        out.append(Node(children=nodes(layer), **common))
      else:
        img = layer.topil()
        pixels = None if img is None else np.asarray(img.convert("RGBA"))
        out.append(Node(x=layer.left, y=layer.top, pixels=pixels, **common))
    return out

  merged = psd.composite()
  return Document(psd.width, psd.height, np.asarray(merged.convert("RGBA")), nodes(psd))


def read_document(path: str) -> Document:
  ext = os.path.splitext(path)[1].lower()
  if ext == ".ora":
    return read_ora(path)
  if ext in (".psd", ".psb"):
    return read_psd(path)
  if ext == ".kra":
    raise LayeredFileError(f"{path}: Krita files are not read (tiled LZF layers); export it "
                           "from Krita as OpenRaster (.ora), which keeps the layers")
  raise LayeredFileError(f"{path}: unknown layered format {ext!r} (use .ora or .psd)")


def make_pair(path: str, line_layers: str = DEFAULT_LINE_LAYERS, exclude: str | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
  """(color RGB uint8, line gray uint8) of one layered file; raises LayeredFileError."""
  doc = read_document(path)
  pattern, skip = re.compile(line_layers, re.I), re.compile(exclude, re.I) if exclude else None
  select = lambda name: bool(pattern.search(name)) and not (skip and skip.search(name))
  names = ", ".join(repr(n) for n in doc.layer_names())
  if doc.merged.shape[:2] != (doc.height, doc.width):
    raise LayeredFileError(
        f"{path}: merged image is {doc.merged.shape[1]}x{doc.merged.shape[0]} but the canvas "
        f"is {doc.width}x{doc.height}, so the layers cannot be aligned to it")
  line, count = line_art(doc, select)
  if count == 0:
    raise LayeredFileError(f"{path}: no visible layer matches --line-layers; its layers: "
                           f"{names}")
  if line.min() == 255:
    raise LayeredFileError(f"{path}: its line layers are empty; its layers: {names}")
  return over_white(doc.merged), line


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
                              "(.ora, .psd): ROOT/color/<name>.png + ROOT/line/<name>.png.")
  p.add_argument("sources", nargs="+", help="layered files or folders of them")
  p.add_argument("--out", required=True, help="dataset root to write")
  p.add_argument("--line-layers", default=DEFAULT_LINE_LAYERS,
                 help="regex (case-insensitive) of line layer or group names "
                 "(default: line, lines, lineart, line art, ink, outline, 線画, 主線)")
  p.add_argument("--exclude", help="regex of layer names never taken as line art")
  args = p.parse_args(argv)
  for regex in (args.line_layers, args.exclude):
    try:
      re.compile(regex or "")
    except re.error as e:
      p.error(f"bad regex {regex!r}: {e}")
  made, skipped = 0, 0
  for path in find_files(args.sources):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
      color, line = make_pair(path, args.line_layers, args.exclude)
      write_png(os.path.join(args.out, "color", name + ".png"), color)
      write_png(os.path.join(args.out, "line", name + ".png"), line)
      made += 1
    except (LayeredFileError, ImageError, OSError) as e:
      print(f"skipped: {e}", file=sys.stderr)
      skipped += 1
  print(f"{made} pairs made in {args.out}, {skipped} files skipped")
  return 0 if made and not skipped else 1


if __name__ == "__main__":
  sys.exit(main())
