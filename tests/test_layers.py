"""Pairs from layered files: OpenRaster and Photoshop documents made here."""

import os
import zipfile

import cv2
import numpy as np
import pytest

from lineart_jax.data import layers, validate
from lineart_jax.data.imageio import read_color, read_line

W, H = 40, 30


def _png(rgba):
  ok, buf = cv2.imencode(".png", rgba[..., [2, 1, 0, 3]])
  return buf.tobytes()


def _rgba(h, w, rgb=(0, 0, 0), alpha=0):
  a = np.zeros((h, w, 4), np.uint8)
  a[..., :3], a[..., 3] = rgb, alpha
  return a


def _ink():
  """A 10x20 layer with one horizontal ink line (rows 4-5)."""
  ink = _rgba(10, 20)
  ink[4:6, :, 3] = 255
  return ink


def _write_ora(path, stack_xml, files, merged_size=(W, H)):
  merged = _rgba(merged_size[1], merged_size[0], (200, 100, 50), 255)
  with zipfile.ZipFile(path, "w") as z:
    z.writestr("mimetype", "image/openraster")
    z.writestr("stack.xml", f'<image w="{W}" h="{H}"><stack>{stack_xml}</stack></image>')
    for name, rgba in files.items():
      z.writestr(name, _png(rgba))
    z.writestr("mergedimage.png", _png(merged))


def _layer(name, src, x=0, y=0, opacity=1.0, visible=True):
  return (f'<layer name="{name}" src="{src}" x="{x}" y="{y}" opacity="{opacity}" '
          f'visibility="{"visible" if visible else "hidden"}"/>')


def test_ora_line_layers_composited_with_offsets_opacity_groups(tmp_path):
  files = {"data/color.png": _rgba(H, W, (200, 100, 50), 255), "data/ink.png": _ink(),
           "data/faint.png": _ink(), "data/hidden.png": _ink(), "data/ingroup.png": _ink()}
  stack = (  # top first, as OpenRaster lists them
      _layer("Hidden Lines", "data/hidden.png", x=0, y=15, visible=False)
      + '<stack name="Lineart" opacity="1.0" visibility="visible">'
      + _layer("strokes", "data/ingroup.png", x=10, y=18) + "</stack>"
      + _layer("Line Art", "data/ink.png", x=8, y=5)
      + _layer("Ink 2", "data/faint.png", x=20, y=0, opacity=0.5)
      + _layer("Colors", "data/color.png"))
  _write_ora(tmp_path / "a.ora", stack, files)
  color, line = layers.make_pair(str(tmp_path / "a.ora"))
  assert color.shape == (H, W, 3) and tuple(color[0, 0]) == (200, 100, 50)
  assert line.shape == (H, W)
  assert np.all(line[9:11, 8:28] == 0)            # "Line Art" at its offset (8, 5)
  assert np.all(line[4:6, 20:40] == 128)          # "Ink 2" at half opacity, clipped at the edge
  assert np.all(line[22:24, 10:30] == 0)          # a layer inside the group "Lineart"
  assert np.all(line[19:21, 0:20] == 255)         # the hidden layer is left out
  assert np.all(line[0:3] == 255)                 # paper elsewhere; no color layer


def test_cli_reports_and_skips_unusable_files(tmp_path, capsys):
  src = tmp_path / "src"
  os.makedirs(src)
  files = {"data/color.png": _rgba(H, W, (9, 9, 9), 255), "data/ink.png": _ink(),
           "data/empty.png": _rgba(10, 20)}
  _write_ora(src / "good.ora", _layer("Lines", "data/ink.png") + _layer("Fill", "data/color.png"),
             files)
  _write_ora(src / "nolines.ora", _layer("Layer 1 Copy", "data/ink.png"), files)
  _write_ora(src / "empty.ora", _layer("Line Art", "data/empty.png"), files)
  _write_ora(src / "offset.ora", _layer("Line Art", "data/ink.png"), files, merged_size=(39, 30))
  (src / "broken.ora").write_bytes(b"not a zip")
  out = tmp_path / "pairs"
  assert layers.main([str(src), "--out", str(out)]) == 1
  err = capsys.readouterr()
  assert "1 pairs made" in err.out and "4 files skipped" in err.out
  assert "nolines.ora: no visible layer matches --line-layers; its layers: 'Layer 1 Copy'" \
      in err.err
  assert "empty.ora: its line layers are empty" in err.err
  assert "offset.ora: merged image is 39x30 but the canvas is 40x30" in err.err
  assert "broken.ora: not a readable OpenRaster file" in err.err
  assert read_line(str(out / "line" / "good.png")).min() == 0
  assert read_color(str(out / "color" / "good.png")).shape == (H, W, 3)
  # --line-layers takes the layer the default misses; the output is ready for validate.
  assert layers.main([str(src / "nolines.ora"), "--out", str(out), "--line-layers",
                      "layer 1 copy"]) == 0
  results = validate.validate(str(out), str(tmp_path / "checked"), show_progress=False)
  assert len(results) == 2 and all(r.status != "unreadable" for r in results)


def test_psd_layers_and_composite(tmp_path):
  import psd_tools  # the [layers] extra, part of [test]
  from PIL import Image
  from psd_tools.api.layers import PixelLayer
  psd = psd_tools.PSDImage.new(mode="RGBA", size=(W, H))
  psd.append(PixelLayer.frompil(Image.fromarray(_rgba(H, W, (200, 100, 50), 255)), psd,
                                "Color", 0, 0))
  psd.append(PixelLayer.frompil(Image.fromarray(_ink()), psd, "Inks", 5, 8))  # top 5, left 8
  psd.save(str(tmp_path / "a.psd"))
  color, line = layers.make_pair(str(tmp_path / "a.psd"))
  assert tuple(color[0, 0]) == (200, 100, 50)
  assert np.all(line[9:11, 8:28] == 0) and line[0:8].min() == 255


def test_krita_files_get_a_clear_message(tmp_path):
  (tmp_path / "a.kra").write_bytes(b"PK")
  with pytest.raises(layers.LayeredFileError, match="export it from Krita as OpenRaster"):
    layers.make_pair(str(tmp_path / "a.kra"))
