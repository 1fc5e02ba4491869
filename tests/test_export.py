"""Exported models (ONNX in onnxruntime, serialized StableHLO) equal the JAX model."""

import subprocess
import sys

import jax
import numpy as np
import pytest

from lineart_jax import export, infer
from lineart_jax import style as style_lib
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_line, write_png
from lineart_jax.model import from_config, predict_lines
from lineart_jax.pretrained import load
from lineart_jax.style import Style

from subprocess_env import REPO, cpu_env


@pytest.fixture(scope="module")
def shipped():
  """The shipped model: trained weights, so the outputs are far from constant."""
  model_cfg, variables, _ = load()
  return from_config(model_cfg), variables


def _images(h, w, n=2):
  imgs = [synthetic.make_pair(21, i, max(h, w))[0][:h, :w] for i in range(n)]
  return np.ascontiguousarray(np.stack(imgs))


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
  out = tmp_path_factory.mktemp("export")
  for fmt in ("onnx", "stablehlo"):
    export.export_model("pretrained", str(out / f"model.{fmt}"), fmt)
  return out


@pytest.mark.parametrize("size", [(64, 64), (97, 203)])
def test_onnx_and_stablehlo_equal_the_jax_model(shipped, artifacts, size):
  import onnxruntime as ort
  model, variables = shipped
  images = _images(*size)
  want = np.asarray(predict_lines(model, variables, images))
  assert want.std() > 0.05  # real line art, not a constant
  padded, (h, w) = export.pad_to_multiple(images)  # any size: pad, run, crop back
  session = ort.InferenceSession(str(artifacts / "model.onnx"))
  hlo = jax.export.deserialize(bytearray((artifacts / "model.stablehlo").read_bytes()))
  # the shipped model has a style input: the second input (zeros = the default style)
  assert [i.name for i in session.get_inputs()] == ["image", "style"]
  dims = model.style_dims  # 5 for models made before the contours entry, else 6
  assert session.get_inputs()[1].shape[1] == dims
  bold = Style(2.0, 0.0, "dark", "ink").vector(dims)
  for style in (Style().vector(dims), bold):
    styles = np.stack([style] * len(images))
    want = np.asarray(predict_lines(model, variables, images, styles))
    got_onnx = session.run(None, {"image": padded, "style": styles})[0][:, :h, :w]
    got_hlo = np.asarray(hlo.call(padded, styles))[:, :h, :w]
    assert got_onnx.shape == got_hlo.shape == want.shape
    assert np.max(np.abs(got_onnx - want)) < 1e-4
    assert np.max(np.abs(got_hlo - want)) < 1e-4


def test_infer_runs_an_onnx_file_with_the_same_tiling(artifacts, tmp_path):
  image = _images(330, 280, n=1)[0]  # several 256-px tiles
  write_png(str(tmp_path / "a.png"), image)
  for args, out in ((["--model", str(artifacts / "model.onnx")], "onnx"), ([], "jax")):
    assert infer.main([str(tmp_path / "a.png"), "--out", str(tmp_path / out), "--tile", "256",
                       *args]) == 0
  a = read_line(str(tmp_path / "onnx" / "a_lineart.png")).astype(int)
  b = read_line(str(tmp_path / "jax" / "a_lineart.png")).astype(int)
  assert np.abs(a - b).max() <= 1  # equal up to rounding to 8 bits


def test_export_cli_float16(tmp_path):
  p = subprocess.run([sys.executable, "-m", "lineart_jax.export", "--pretrained",
                      f"--out={tmp_path / 'm16.stablehlo'}", "--dtype=float16"], cwd=REPO,
                     env=cpu_env(), capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-2000:]
  assert "stablehlo, float16" in p.stdout
  hlo = jax.export.deserialize(bytearray((tmp_path / "m16.stablehlo").read_bytes()))
  images = _images(64, 64, n=1)
  model_cfg, variables, _ = load()
  want = np.asarray(predict_lines(from_config(model_cfg), variables, images))
  default_style = np.zeros((1, model_cfg.style_dims), np.float32)
  assert np.max(np.abs(np.asarray(hlo.call(images, default_style)) - want)) < 0.02


def test_the_command_line_modules_import_together():
  """``evaluate`` and ``export`` both have a ``--workdir`` flag: defined on import,
  absl refused the second module (DuplicateFlagError) in any one process."""
  from lineart_jax import evaluate, export as export_again  # noqa: F401
  assert callable(evaluate.define_flags) and callable(export_again.define_flags)
