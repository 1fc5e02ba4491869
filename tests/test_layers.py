"""Pairs from layered files: OpenRaster and Photoshop documents made here."""

import os
import re
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


# -- Krita: files written here in Krita's format ----------------------------------
def _lzf(data: bytes) -> bytes:
  """A small LZF compressor (liblzf's format): literal runs, and runs of a repeated
  byte as overlapping back-references (distance 1, up to 264 bytes)."""
  out, i, literal = bytearray(), 0, bytearray()

  def flush():
    while literal:
      chunk = literal[:32]
      out.append(len(chunk) - 1)
      out.extend(chunk)
      del literal[:32]

  while i < len(data):
    run = 1
    while i + run < len(data) and data[i + run] == data[i] and run < 265:
      run += 1
    literal.append(data[i])
    if run >= 4:  # the byte, then run-1 copies of it at distance 1
      flush()
      length = run - 1 - 2
      if length < 7:
        out.append(length << 5)
      else:
        out += bytes([7 << 5, length - 7])
      out.append(0)
      i += run
    else:
      i += 1
  flush()
  return bytes(out)


def test_lzf_decompress_literals_and_back_references():
  # "abc", then 3 bytes from distance 3 ("abc"), then 9 bytes from distance 1.
  data = bytes([2]) + b"abc" + bytes([1 << 5, 2]) + bytes([7 << 5, 0, 0])
  assert layers.lzf_decompress(data, 15) == b"abcabc" + b"c" * 9
  rng = np.random.default_rng(0)
  raw = bytes(np.repeat(rng.integers(0, 4, 400, dtype=np.uint8), rng.integers(1, 300, 400)))
  assert layers.lzf_decompress(_lzf(raw), len(raw)) == raw
  with pytest.raises(ValueError):
    layers.lzf_decompress(bytes([1 << 5, 5]), 10)  # a reference before the start


def _kra_layer_file(rgba, tile=64, raw_tiles=()):
  """Krita's paint-layer file ("VERSION 2") of straight RGBA pixels placed at the
  layer's origin; tiles whose index is in ``raw_tiles`` are stored uncompressed."""
  h, w = rgba.shape[:2]
  bgra = np.zeros((-(-h // tile) * tile, -(-w // tile) * tile, 4), np.uint8)
  bgra[:h, :w] = rgba[..., [2, 1, 0, 3]]
  tiles = []
  for ty in range(0, bgra.shape[0], tile):
    for tx in range(0, bgra.shape[1], tile):
      px = bgra[ty:ty + tile, tx:tx + tile]
      if not px[..., 3].any():
        continue  # Krita writes only the tiles a layer has
      if len(tiles) in raw_tiles:
        blob = b"\x00" + px.tobytes()
      else:
        blob = b"\x01" + _lzf(px.transpose(2, 0, 1).tobytes())  # bytes grouped by channel
      tiles.append(f"{tx},{ty},LZF,{len(blob)}\n".encode() + blob)
  head = f"VERSION 2\nTILEWIDTH {tile}\nTILEHEIGHT {tile}\nPIXELSIZE 4\nDATA {len(tiles)}\n"
  return head.encode() + b"".join(tiles)


def _write_kra(path, layers_xml, files, merged_size=(W, H)):
  merged = _rgba(merged_size[1], merged_size[0], (200, 100, 50), 255)
  with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("mimetype", "application/x-krita")
    z.writestr("maindoc.xml",
               '<?xml version="1.0" encoding="UTF-8"?><DOC xmlns="http://www.calligra.org/DTD/'
               f'krita" syntaxVersion="2"><IMAGE name="art" width="{W}" height="{H}" '
               f'colorspacename="RGBA"><layers>{layers_xml}</layers></IMAGE></DOC>')
    for name, data in files.items():
      z.writestr(f"art/layers/{name}", data)
    z.writestr("mergedimage.png", _png(merged))


def _kra_layer(name, filename, x=0, y=0, opacity=255, visible=True):
  return (f'<layer name="{name}" nodetype="paintlayer" filename="{filename}" x="{x}" y="{y}" '
          f'opacity="{opacity}" visible="{int(visible)}" colorspacename="RGBA"/>')


def test_kra_gives_the_pair_of_the_ora_with_the_same_layers(tmp_path):
  """Offsets (also tiles at negative coordinates), opacity, hidden layers, groups,
  raw and LZF tiles: the .kra and the .ora of the same layers give the same pair."""
  ink = _ink()
  big = _rgba(70, 90)  # spans 2x2 tiles; placed at (-50, -45): partly off the canvas
  big[60:62, 40:90, 3] = 255
  big[50:70, 60, 3] = 200
  paint = _rgba(H, W, (0, 0, 255), 255)
  ora_stack = (_layer("ink", "data/ink.png", x=8, y=5) +
               '<stack name="Lines" opacity="0.5">' +
               _layer("detail", "data/big.png", x=-50, y=-45) + "</stack>" +
               _layer("lineart old", "data/old.png", visible=False) +
               _layer("color", "data/paint.png"))
  _write_ora(tmp_path / "a.ora", ora_stack, {"data/ink.png": ink, "data/big.png": big,
                                             "data/old.png": ink, "data/paint.png": paint})
  kra_layers = (_kra_layer("ink", "layer4", x=8, y=5) +
                '<layer name="Lines" nodetype="grouplayer" filename="layer3" opacity="128" '
                'visible="1"><layers>' + _kra_layer("detail", "layer5", x=-50, y=-45) +
                "</layers></layer>" +
                _kra_layer("lineart old", "layer2", visible=False) +
                _kra_layer("color", "layer1"))
  _write_kra(tmp_path / "a.kra", kra_layers, {
      "layer4": _kra_layer_file(ink), "layer5": _kra_layer_file(big, raw_tiles=(1,)),
      "layer2": _kra_layer_file(ink), "layer1": _kra_layer_file(paint)})
  ora_color, ora_line = layers.make_pair(str(tmp_path / "a.ora"))
  kra_color, kra_line = layers.make_pair(str(tmp_path / "a.kra"))
  np.testing.assert_array_equal(kra_color, ora_color)
  # Krita stores opacity in 255ths: 128/255 against the .ora's 0.5
  assert np.abs(kra_line.astype(int) - ora_line.astype(int)).max() <= 1
  assert kra_line[9:11, 8:28].max() == 0  # the ink layer
  assert 0 < kra_line[15:17, 0:40].min() < 255  # the half-opaque group's line


def test_kra_without_line_layers_is_reported(tmp_path):
  _write_kra(tmp_path / "a.kra", _kra_layer("Paint", "layer1"),
             {"layer1": _kra_layer_file(_ink())})
  with pytest.raises(layers.LayeredFileError, match="'Paint'"):
    layers.make_pair(str(tmp_path / "a.kra"))


# -- hostile files: refused from what they declare, before decoding ---------------
def _png_bomb(w, h):
  """A valid PNG of w x h black transparent pixels that compresses to ~1/1000:
  each row deflated with a full flush, so one compressed row repeats."""
  import struct
  import zlib

  def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
  row = bytes(1 + 4 * w)
  c = zlib.compressobj(9)
  first = c.compress(row) + c.flush(zlib.Z_FULL_FLUSH)
  again = c.compress(row) + c.flush(zlib.Z_FULL_FLUSH)
  n = len(row) * h
  adler = ((n % 65521) << 16) | 1  # adler32 of n zero bytes
  idat = first + again * (h - 1) + b"\x03\x00" + struct.pack(">I", adler)
  return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
          + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _refused_fast_and_small(path, match):
  """Runs make_pair in a fresh process: (CPU seconds, peak RSS MB), after checking
  that it raised LayeredFileError matching ``match``.

  CPU time of the process (all its threads), not wall time, which also counts
  the time it waits for a core on a busy machine: the refusal takes 1-50 ms of
  CPU, decoding the bomb would take its CPU-seconds (and memory) however loaded."""
  import subprocess
  import sys
  code = ("import sys, time\n"
          "from lineart_jax.data import layers\n"
          "t = time.process_time()\n"
          "try:\n"
          f"  layers.make_pair({str(path)!r})\n"
          "  print('no error')\n"
          "except layers.LayeredFileError as e:\n"
          "  print('refused:', e)\n"
          # VmHWM: this program's peak RSS (ru_maxrss would count the forked parent's)
          "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
          "print(time.process_time() - t, hwm.split()[1])\n")
  p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
  assert p.returncode == 0, p.stderr[-2000:]
  message, figures = p.stdout.strip().splitlines()[-2:]
  assert message.startswith("refused:") and re.search(match, message), message
  seconds, rss_kb = figures.split()
  return float(seconds), int(rss_kb) / 1024


def test_bomb_ora_layer_is_refused_within_a_second_and_200_mb(tmp_path):
  bomb = _png_bomb(20000, 20000)  # 1.6 GB of RGBA in about 2 MB
  assert len(bomb) < 5_000_000
  _write_ora(tmp_path / "bomb.ora", _layer("lines", "data/bomb.png"), {})
  with zipfile.ZipFile(tmp_path / "bomb.ora", "a") as z:
    z.writestr("data/bomb.png", bomb)
  seconds, rss = _refused_fast_and_small(tmp_path / "bomb.ora", r"20000x20000.*--max-pixels")
  assert seconds < 1.0 and rss < 200, (seconds, rss)


def test_bomb_psd_header_is_refused_within_a_second_and_200_mb(tmp_path):
  import struct
  header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 4, 30000, 30000, 8, 3)
  (tmp_path / "bomb.psd").write_bytes(header + bytes(4 * 3) + struct.pack(">H", 1) +
                                      bytes(1000))
  seconds, rss = _refused_fast_and_small(tmp_path / "bomb.psd", r"30000x30000")
  assert seconds < 1.0 and rss < 200, (seconds, rss)


def test_declared_canvas_and_zip_ratio_limits(tmp_path):
  _write_ora(tmp_path / "canvas.ora", _layer("lines", "data/ink.png"), {"data/ink.png": _ink()})
  with zipfile.ZipFile(tmp_path / "canvas.ora") as z:
    members = {n: z.read(n) for n in z.namelist()}
  members["stack.xml"] = members["stack.xml"].replace(f'w="{W}"'.encode(), b'w="999999999"')
  with zipfile.ZipFile(tmp_path / "canvas.ora", "w") as z:
    for n, data in members.items():
      z.writestr(n, data)
  with pytest.raises(layers.LayeredFileError, match="canvas is 999999999x30"):
    layers.make_pair(str(tmp_path / "canvas.ora"))

  members["stack.xml"] = (f'<image w="{W}" h="{H}"><stack>'.encode() + b" " * (50 << 20) +
                          _layer("lines", "data/ink.png").encode() + b"</stack></image>")
  with zipfile.ZipFile(tmp_path / "ratio.ora", "w", zipfile.ZIP_DEFLATED) as z:
    for n, data in members.items():
      z.writestr(n, data)
  with pytest.raises(layers.LayeredFileError, match="--max-zip-ratio"):
    layers.make_pair(str(tmp_path / "ratio.ora"))
  generous = layers.Limits(max_zip_ratio=1e9)
  _, line = layers.make_pair(str(tmp_path / "ratio.ora"), limits=generous)
  assert line.min() == 0


def test_cli_skips_a_bomb_and_converts_the_rest(tmp_path, capsys):
  (tmp_path / "src").mkdir()
  _write_ora(tmp_path / "src" / "good.ora", _layer("lines", "data/ink.png"),
             {"data/ink.png": _ink()})
  _write_ora(tmp_path / "src" / "bomb.ora", _layer("lines", "data/bomb.png"), {})
  with zipfile.ZipFile(tmp_path / "src" / "bomb.ora", "a") as z:
    z.writestr("data/bomb.png", _png_bomb(12000, 12000))
  rc = layers.main([str(tmp_path / "src"), "--out", str(tmp_path / "out")])
  err = capsys.readouterr()
  assert rc == 1
  assert [l for l in err.err.splitlines() if l.startswith("skipped:")] == [
      l for l in err.err.splitlines() if "bomb.ora" in l and "12000x12000" in l]
  assert "1 pairs made" in err.out and os.path.exists(tmp_path / "out" / "line" / "good.png")
  rc = layers.main([str(tmp_path / "src"), "--out", str(tmp_path / "out2"),
                    "--max-pixels", "100"])  # the limit is an option
  assert rc == 1 and "0 pairs made" in capsys.readouterr().out
