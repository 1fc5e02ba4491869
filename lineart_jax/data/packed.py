"""Packed storage for training: cheap random crops of large pairs.

Decoding a ~1000x1000 PNG costs ~20-40 ms; a 128x128 crop of it is all the step
uses.  ``prepare`` decodes every validated pair once and stores it raw, as
(H, W, 4) uint8 (R, G, B, line) rows, one pair after another in ``pairs.u8``,
with an ``index.json`` of offsets and sizes (and each styled pair's style vector,
``lineart_jax.style``).  The loader memory-maps that file:
a crop touches only the 128 rows it needs (128 x 512 contiguous bytes each), no
decoding, and the OS page cache keeps hot pairs in memory.  Raw storage costs
4 bytes a pixel (a 1000x1000 pair is 4 MB) for that speed.

CLI: ``python -m lineart_jax.data.prepare ROOT_OR_MANIFEST --out DIR``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from lineart_jax.data.imageio import ImageError, read_color, read_line
from lineart_jax.data.pairs import Pair

INDEX = "index.json"
DATA = "pairs.u8"
VERSION = 1


def is_packed(path: str) -> bool:
  return os.path.isfile(os.path.join(path, INDEX))


def pack(pairs: list[Pair], out: str, show_progress: bool = True,
         paper_level: float | str | None = None) -> tuple[int, list[str]]:
  """Packs ``pairs`` into ``out``; returns (pairs packed, error messages).

  ``paper_level`` whitens gray paper in the line art (scans, tinted exports):
  a level in (0, 1] maps that level and above to white, ``"auto"`` uses each
  image's own paper level (``validate.paper_level``); None keeps it as is.

  Pairs that cannot be read or whose sizes differ are left out with a message
  (run ``validate`` first: it fixes sizes and shifts).  Written to temporary
  names and renamed at the end, so an interrupted run leaves no half index.
  """
  from tqdm import tqdm
  os.makedirs(out, exist_ok=True)
  entries, errors, offset = [], [], 0
  tmp_data = os.path.join(out, DATA + ".tmp")
  items = tqdm(pairs, "packing") if show_progress else pairs
  with open(tmp_data, "wb") as f:
    for pair in items:
      try:
        color, line = read_color(pair.color), read_line(pair.line)
      except ImageError as e:
        errors.append(str(e))
        continue
      if color.shape[:2] != line.shape:
        errors.append(f"{pair.color} / {pair.line}: sizes differ ({color.shape[1]}x"
                      f"{color.shape[0]} vs {line.shape[1]}x{line.shape[0]}); run validate")
        continue
      if paper_level is not None:
        from lineart_jax.data.validate import paper_level as measure, whiten_paper
        line = whiten_paper(line, measure(line) if paper_level == "auto" else paper_level)
      rows = np.concatenate([color, line[..., None]], axis=2)
      f.write(rows.tobytes())
      entries.append({"offset": offset, "height": int(line.shape[0]),
                      "width": int(line.shape[1]), "color": pair.color, "line": pair.line})
      if pair.style is not None:
        entries[-1]["style"] = pair.style.vector().tolist()
      offset += rows.nbytes
  tmp_index = os.path.join(out, INDEX + ".tmp")
  with open(tmp_index, "w") as f:
    json.dump({"version": VERSION, "pairs": entries}, f)
  os.replace(tmp_data, os.path.join(out, DATA))
  os.replace(tmp_index, os.path.join(out, INDEX))
  return len(entries), errors


def check_consistent(index_path: str, data_path: str, entries: list[dict]) -> None:
  """Refuses, at open, a pack whose index is inconsistent or whose data file is
  not exactly the size the index implies (an interrupted copy, a truncated
  file), instead of failing inside a loader worker hours into a run."""
  redo = "; run python -m lineart_jax.data.prepare again (or copy the pack again)"
  offset = 0
  for i, e in enumerate(entries):
    h, w = e.get("height", 0), e.get("width", 0)
    if not (isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0):
      raise ValueError(f"{index_path}: pair {i} has size {w}x{h}, not positive{redo}")
    if e.get("offset") != offset:
      raise ValueError(f"{index_path}: pair {i} starts at byte {e.get('offset')}, expected "
                       f"{offset} (offsets must follow each other){redo}")
    offset += h * w * 4
  try:
    found = os.path.getsize(data_path)
  except OSError as e:
    raise ValueError(f"{data_path}: cannot read the packed data ({e.strerror or e}){redo}")
  if found != offset:
    raise ValueError(f"{data_path}: {found:,} bytes, but {index_path} describes {offset:,} "
                     f"({len(entries)} pairs){redo}")


class PackedSource:
  """Random access to packed pairs as memory-mapped (H, W, 3) and (H, W) views.

  The memory map is opened lazily in whichever process reads (Grain workers get
  a pickled copy without it), so no pixel data is pickled.
  """

  def __init__(self, path: str):
    index_path = os.path.join(path, INDEX)
    try:
      with open(index_path) as f:
        index = json.load(f)
    except (OSError, ValueError) as e:
      raise ValueError(f"{index_path}: not a packed dataset index ({e})") from e
    if index.get("version") != VERSION:
      raise ValueError(f"{index_path}: version {index.get('version')}, expected {VERSION}; "
                       "re-run lineart_jax.data.prepare")
    self.path = path
    self.entries = index["pairs"]
    if not self.entries:
      raise ValueError(f"{index_path}: the packed dataset has no pairs")
    check_consistent(index_path, os.path.join(path, DATA), self.entries)
    self._data = None

  def __len__(self) -> int:
    return len(self.entries)

  def __getstate__(self):
    return {**self.__dict__, "_data": None}

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    if self._data is None:
      self._data = np.memmap(os.path.join(self.path, DATA), np.uint8, mode="r")
    e = self.entries[int(index)]
    h, w = e["height"], e["width"]
    rows = self._data[e["offset"]:e["offset"] + h * w * 4].reshape(h, w, 4)
    out = {"color": rows[..., :3], "line": rows[..., 3]}
    if "style" in e:
      out["style"] = np.asarray(e["style"], np.float32)
    return out

  def name(self, index: int) -> str:
    """The file name of the pair's color image (for reports)."""
    return os.path.basename(self.entries[int(index)]["color"])

  def __repr__(self) -> str:
    return f"PackedSource({self.path!r}, {len(self)} pairs)"
