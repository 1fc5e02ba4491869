"""Finding (color, line) pairs: a dataset root or a TSV manifest.

Layout of a dataset root::

    ROOT/color/<rel>/<stem>.<ext>     colored illustration
    ROOT/line/<rel>/<stem>.<ext>      its line art (same relative path and stem)

Extensions may differ between the two (PNG, JPEG, WebP, BMP).  A manifest is a
text file with one ``color<TAB>line`` pair per line (relative paths are relative
to the manifest's folder; ``#`` starts a comment).

A root may also hold ``style.tsv`` (``synthetic --styles`` writes it): the line
style of each pair's line art (``lineart_jax.style``), one
``<rel>/<stem><TAB>line_weight<TAB>detail<TAB>tone<TAB>blacks`` row per pair; pairs
it does not list are in the default style.
"""

from __future__ import annotations

import dataclasses
import os

from lineart_jax.data.imageio import IMAGE_EXTENSIONS
from lineart_jax.style import Style

STYLES = "style.tsv"


@dataclasses.dataclass(frozen=True)
class Pair:
  color: str
  line: str
  style: Style | None = None  # the line art's style; None: the default


def write_styles(root: str, styles: dict[str, Style]) -> None:
  """``root/style.tsv`` for pairs keyed by relative stem (written atomically)."""
  os.makedirs(root, exist_ok=True)
  path = os.path.join(root, STYLES)
  with open(path + ".tmp", "w", encoding="utf-8") as f:
    f.write("# pair\tline_weight\tdetail\ttone\tblacks\tcontours\n")
    for key, st in sorted(styles.items()):
      f.write(f"{key}\t{st.line_weight:.6g}\t{st.detail:.6g}\t{st.tone}\t{st.blacks}"
              f"\t{st.contours}\n")
  os.replace(path + ".tmp", path)


def read_styles(root: str) -> dict[str, Style]:
  """The styles of ``root/style.tsv`` by relative stem ({} without the file)."""
  path = os.path.join(root, STYLES)
  if not os.path.isfile(path):
    return {}
  styles = {}
  with open(path, encoding="utf-8") as f:
    for n, raw in enumerate(f, 1):
      if not raw.strip() or raw.lstrip().startswith("#"):
        continue
      fields = raw.rstrip("\n").split("\t")
      try:
        if len(fields) not in (5, 6):  # 5: written before the contours control
          raise ValueError(f"expected 6 tab-separated fields, got {len(fields)}")
        styles[fields[0]] = Style(float(fields[1]), float(fields[2]), *fields[3:])
      except ValueError as e:
        raise ValueError(f"{path}:{n}: {e}") from None
  return styles


def _images_by_key(folder: str) -> dict[str, str]:
  out = {}
  for dirpath, _, files in os.walk(folder):
    for f in sorted(files):
      stem, ext = os.path.splitext(f)
      if ext.lower() in IMAGE_EXTENSIONS:
        rel = os.path.relpath(os.path.join(dirpath, stem), folder)
        out.setdefault(rel, os.path.join(dirpath, f))
  return out


def pairs_from_root(root: str) -> tuple[list[Pair], list[str]]:
  """Pairs of ``root``, sorted; and the paths that have no partner."""
  color_dir, line_dir = os.path.join(root, "color"), os.path.join(root, "line")
  for d in (color_dir, line_dir):
    if not os.path.isdir(d):
      raise FileNotFoundError(f"{root}: expected folders color/ and line/; {d} is missing")
  colors, lines = _images_by_key(color_dir), _images_by_key(line_dir)
  styles = read_styles(root)
  pairs = [Pair(colors[k], lines[k], styles.get(k)) for k in sorted(colors.keys() & lines.keys())]
  unpaired = sorted([colors[k] for k in colors.keys() - lines.keys()]
                    + [lines[k] for k in lines.keys() - colors.keys()])
  return pairs, unpaired


def read_manifest(path: str) -> list[Pair]:
  base = os.path.dirname(os.path.abspath(path))
  pairs = []
  with open(path, encoding="utf-8") as f:
    for n, raw in enumerate(f, 1):
      line = raw.rstrip("\n")
      if not line.strip() or line.lstrip().startswith("#"):
        continue
      fields = line.split("\t")
      if len(fields) != 2:
        raise ValueError(f"{path}:{n}: expected 'color<TAB>line', got {line!r}")
      pairs.append(Pair(*(os.path.join(base, p) for p in fields)))
  return pairs


def write_manifest(path: str, pairs: list[Pair]) -> None:
  base = os.path.dirname(os.path.abspath(path))
  os.makedirs(base, exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    f.write("# color\tline\n")
    for p in pairs:
      f.write(f"{os.path.relpath(p.color, base)}\t{os.path.relpath(p.line, base)}\n")
  os.replace(tmp, path)


def find_pairs(root_or_manifest: str) -> list[Pair]:
  """Pairs from a dataset root, or from a manifest file."""
  if os.path.isfile(root_or_manifest):
    return read_manifest(root_or_manifest)
  return pairs_from_root(root_or_manifest)[0]
