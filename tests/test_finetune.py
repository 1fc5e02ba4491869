"""python -m lineart_jax.finetune: pairs from layered files, a split by drawing, a
fine-tune, calibration on the user's pairs, weights and a report."""

import json
import os
import zipfile

import cv2
import jax
import numpy as np

from lineart_jax import finetune, pretrained
from lineart_jax.data.pairs import Pair
from lineart_jax.model import AutoEncoder, ModelConfig, init_variables


def _drawing(kind, size=64, mirror=False):
  """Line art of one of a few distinct drawings (gray, ink 0 on 255)."""
  img = np.full((size, size), 255, np.uint8)
  if kind == "circle":
    cv2.circle(img, (22, 30), 14, 0, 2)
    cv2.line(img, (36, 30), (60, 10), 0, 2)
  elif kind == "cross":
    cv2.line(img, (5, 5), (58, 58), 0, 2)
    cv2.line(img, (5, 58), (58, 5), 0, 2)
  elif kind == "box":
    cv2.rectangle(img, (10, 40), (50, 58), 0, 2)
  elif kind == "wave":
    for x in range(0, size - 4, 4):
      cv2.line(img, (x, 20 + (x % 8)), (x + 4, 20 + ((x + 4) % 8)), 0, 2)
  else:
    cv2.line(img, (32, 0), (32, 63), 0, 2)
  return img[:, ::-1].copy() if mirror else img


def _pair_files(root, name, line):
  os.makedirs(root / "line", exist_ok=True)
  path = str(root / "line" / f"{name}.png")
  cv2.imwrite(path, line)
  return Pair(path, path)


def test_split_by_drawing_keeps_near_duplicates_together(tmp_path):
  pairs = [_pair_files(tmp_path, "catCircle", _drawing("circle")),
           _pair_files(tmp_path, "catCircleR", _drawing("circle", mirror=True)),  # mirrored
           _pair_files(tmp_path, "cross", _drawing("cross")),
           _pair_files(tmp_path, "box", _drawing("box")),
           _pair_files(tmp_path, "box2", _drawing("wave")),  # same name but for a digit
           _pair_files(tmp_path, "line", _drawing("line"))]
  groups = finetune.drawing_groups(pairs)
  assert sorted(map(sorted, groups)) == [[0, 1], [2], [3, 4], [5]]
  for seed in range(5):
    train, held, _ = finetune.split_by_drawing(pairs, 0.3, seed, minimum=2)
    assert set(train) | set(held) == set(range(6)) and not set(train) & set(held)
    assert len(held) >= 2 and train
    for group in groups:  # a drawing is on one side only
      assert set(group) <= set(train) or set(group) <= set(held)


def _ora_drawing(path, kind, size=64):
  """An OpenRaster file: a colored drawing and its "Line Art" layer."""
  line = _drawing(kind, size)
  ink = np.zeros((size, size, 4), np.uint8)
  ink[..., 3] = 255 - line
  merged = np.full((size, size, 4), 255, np.uint8)
  merged[..., :3] = (90, 160, 220)
  merged[line < 128, :3] = 20
  png = lambda rgba: cv2.imencode(".png", rgba[..., [2, 1, 0, 3]])[1].tobytes()
  with zipfile.ZipFile(path, "w") as z:
    z.writestr("mimetype", "image/openraster")
    z.writestr("stack.xml", f'<image w="{size}" h="{size}"><stack>'
               '<layer name="Line Art" src="data/line.png"/></stack></image>')
    z.writestr("data/line.png", png(ink))
    z.writestr("mergedimage.png", png(merged))


def test_finetune_end_to_end_on_layered_files(tmp_path, capsys):
  """.ora files in, loadable weights in the shipped format and a report out; an
  unusable file is skipped with one line."""
  src = tmp_path / "drawings"
  src.mkdir()
  for i, kind in enumerate(["circle", "cross", "box", "wave", "line", "circle"]):
    _ora_drawing(src / f"d{i}_{kind}.ora", kind)
  (src / "broken.ora").write_bytes(b"not a zip")
  init = tmp_path / "init"
  variables = jax.tree.map(np.asarray, dict(init_variables(AutoEncoder(width=0.0625), 3)))
  pretrained.save(ModelConfig(0.0625), variables, {"step": 0}, str(init))
  out = tmp_path / "out"
  scores = finetune.run([str(src)], str(out), init=str(init), steps=3, holdout=0.3, workers=0,
                        synthetic_pairs=2)
  printed = capsys.readouterr().out
  assert sum("broken.ora" in l for l in printed.splitlines() if l.startswith("skipped:")) == 1
  model, weights, what = pretrained.load_weights(str(out / "weights"))
  assert model.width == 0.0625
  info = json.load(open(out / "weights" / pretrained.INFO_FILE))
  assert info["calibration"]["data"] == str(out / "packed")  # the user's pairs, not synthetic
  report = json.load(open(out / "report.json"))
  held = report["held_out"]
  assert len(held) >= 2 and report["train_pairs"] + len(held) == 6
  for part in ("held_out", "synthetic"):
    for when in ("before", "after"):
      assert np.isfinite(scores[part][when]["psnr"]) and 0 <= scores[part][when]["f_score"] <= 1
  assert scores == report["scores"]
  panels = cv2.imread(str(out / "report.png"))
  assert panels.shape[0] == 192 * len(held) and panels.shape[1] >= 4 * 192
  assert "Held-out drawings" in open(out / "report.md").read()
  # the two circles are one drawing: both trained on or both held out
  circles = [os.path.basename(p) for p in held if "circle" in p]
  assert len(circles) in (0, 2)


def test_finetune_teaches_the_declared_style_and_keeps_the_style_input(tmp_path):
  """--contours=all (line art that draws every boundary): the init's style input is
  kept and grows the contours entry, the pairs are packed in that style, and the
  default style is calibrated on synthetic pairs; a model without a style input
  is refused before any work."""
  import pytest
  from lineart_jax import style as style_lib
  from lineart_jax.data.packed import PackedSource
  from lineart_jax.style import Style
  src = tmp_path / "drawings"
  src.mkdir()
  for i, kind in enumerate(["circle", "cross", "box", "wave", "line"]):
    _ora_drawing(src / f"d{i}_{kind}.ora", kind)
  plain, styled = tmp_path / "plain", tmp_path / "styled"
  model = AutoEncoder(width=0.0625, style_dims=style_lib.LEGACY_DIMS)
  variables = jax.tree.map(np.asarray, dict(init_variables(model, 3)))
  pretrained.save(ModelConfig(0.0625, style_dims=style_lib.LEGACY_DIMS), variables,
                  {"step": 0}, str(styled))
  del variables["params"]  # the same network without style layers
  pretrained.save(ModelConfig(0.0625), jax.tree.map(np.asarray, dict(init_variables(
      AutoEncoder(width=0.0625), 3))), {"step": 0}, str(plain))
  every = Style(contours="all")
  with pytest.raises(ValueError, match="no style input"):
    finetune.run([str(src)], str(tmp_path / "refused"), init=str(plain), steps=2, workers=0,
                 synthetic_pairs=1, style=every)
  assert not (tmp_path / "refused").exists()
  out = tmp_path / "out"
  finetune.run([str(src)], str(out), init=str(styled), steps=2, holdout=0.3, workers=0,
               synthetic_pairs=1, style=every)
  model_cfg, _, _ = pretrained.load_weights(str(out / "weights"))
  assert model_cfg.style_dims == style_lib.DIMS
  packed = PackedSource(str(out / "packed"))
  for i in range(len(packed)):
    np.testing.assert_array_equal(packed[i]["style"], every.vector())
  info = json.load(open(out / "weights" / pretrained.INFO_FILE))
  assert info["calibration"]["data"] == "synthetic" and "--contours=all" in info["command"]
