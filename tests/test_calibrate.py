"""Output calibration: folding is exact, fitting finds a known map, the CLI writes weights."""

import json
import os
import subprocess
import sys

import jax
import numpy as np

from lineart_jax import calibrate, pretrained
from lineart_jax.model import AutoEncoder, ModelConfig, init_variables, predict_lines

from subprocess_env import REPO, cpu_env

WIDTH = 0.0625


def _variables():
  return jax.tree.map(np.asarray, dict(init_variables(AutoEncoder(width=WIDTH), 3)))


def test_fold_is_an_affine_map_of_the_logit():
  variables = _variables()
  rgb = np.random.default_rng(0).integers(0, 256, (2, 16, 24, 3), np.uint8)
  predict = jax.jit(lambda v, x: predict_lines(AutoEncoder(width=WIDTH), v, x))
  before = np.asarray(predict(variables, rgb))
  after = np.asarray(predict(calibrate.fold(variables, 1.8, -0.7), rgb))
  want = 1.0 / (1.0 + np.exp(-(1.8 * calibrate.logits(before) - 0.7)))
  np.testing.assert_allclose(after, want, atol=2e-5)
  assert not np.allclose(after, before, atol=1e-3)
  name = calibrate.last_layer()  # the input is unchanged
  np.testing.assert_array_equal(variables["params"][name]["kernel"],
                                _variables()["params"][name]["kernel"])


def test_fit_recovers_a_known_map_and_leaves_a_calibrated_model_alone():
  rng = np.random.default_rng(1)
  z = rng.normal(0, 3, (4, 32, 32)).astype(np.float32)
  target = 1.0 / (1.0 + np.exp(-(1.6 * z - 0.5)))
  scale, shift, before, after = calibrate.fit(z, target)
  assert abs(scale - 1.6) < 0.05 and abs(shift + 0.5) < 0.05, (scale, shift)
  assert after < before / 100
  # Outputs that already are the targets: nothing to fix, the identity is kept.
  assert calibrate.fit(1.6 * z - 0.5, target)[:2] == (1.0, 0.0)


def test_cli_writes_calibrated_shipped_format_weights(tmp_path):
  src, out = tmp_path / "run", tmp_path / "calibrated"
  pretrained.save(ModelConfig(WIDTH), _variables(), {"step": 5, "command": "train it"},
                  str(src))
  run = lambda *a: subprocess.run([sys.executable, "-m", "lineart_jax.calibrate", *a], cwd=REPO,
                                  env=cpu_env(), capture_output=True, text=True, timeout=300)
  p = run(str(src), "--out", str(out), "--pairs", "2", "--size", "48")
  assert p.returncode == 0, p.stderr[-3000:]
  model, variables, what = pretrained.load_weights(str(out))
  info = json.load(open(out / pretrained.INFO_FILE))
  cal = info["calibration"]
  assert model == ModelConfig(WIDTH) and info["step"] == 5
  assert info["command"].startswith("train it && python -m lineart_jax.calibrate")
  assert cal["loss_after"] <= cal["loss_before"] and cal["pairs"] == 2
  np.testing.assert_allclose(
      variables["params"][calibrate.last_layer()]["bias"],
      calibrate.fold(_variables(), cal["scale"], cal["shift"])["params"][
          calibrate.last_layer()]["bias"], rtol=1e-6)
  again = run(str(out), "--out", str(tmp_path / "twice"), "--pairs", "2", "--size", "48")
  assert again.returncode != 0 and "already calibrated" in again.stderr
  assert not os.path.exists(tmp_path / "twice")


def _pairs_root(root, count=3, size=48):
  """Pairs whose color is the line art, darkened and tinted: a learnable map."""
  import cv2
  rng = np.random.default_rng(3)
  for i in range(count):
    line = np.full((size, size), 255, np.uint8)
    for _ in range(4):
      x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
      cv2.line(line, (x0, y0), (x1, y1), 0, 2)
    color = np.stack([line * 0.8 + 30, line * 0.6 + 60, line * 0.9], -1).astype(np.uint8)
    os.makedirs(root / "color", exist_ok=True)
    os.makedirs(root / "line", exist_ok=True)
    cv2.imwrite(str(root / "color" / f"p{i}.png"), color[..., ::-1])
    cv2.imwrite(str(root / "line" / f"p{i}.png"), line)


def test_calibrate_on_given_pairs_never_makes_their_loss_worse(tmp_path):
  """--data: fitted on those pairs; the loss of the written weights on them is at
  most the uncalibrated weights' (recomputed here, not read from the report)."""
  from lineart_jax import losses
  from lineart_jax.infer import NetworkExtractor
  src, out, data = tmp_path / "run", tmp_path / "calibrated", tmp_path / "pairs"
  _pairs_root(data)
  pretrained.save(ModelConfig(WIDTH), _variables(), {"step": 5}, str(src))
  assert calibrate.main([str(src), "--out", str(out), "--data", str(data), "--pairs", "3",
                         "--size", "48"]) == 0
  info = json.load(open(out / pretrained.INFO_FILE))
  assert info["calibration"]["data"] == str(data) and info["calibration"]["pairs"] == 3

  def loss(weights):
    z, target = calibrate.pair_logits(NetworkExtractor(*pretrained.load_weights(weights)[:2]),
                                      str(data), 3, 48)
    out_ = 1.0 / (1.0 + np.exp(-z))
    return float(np.mean(losses.per_image_loss(out_, target, losses.loss_map(target))))
  assert loss(str(out)) <= loss(str(src)) * (1 + 1e-6)
  assert info["calibration"]["loss_after"] <= info["calibration"]["loss_before"]


def test_calibrate_uses_the_runs_own_real_training_data(tmp_path, capsys):
  from lineart_jax.checkpointing import find_step_dir
  data = tmp_path / "pairs"
  _pairs_root(data)
  workdir = tmp_path / "run"
  p = subprocess.run([sys.executable, "-m", "lineart_jax.train", "--config=configs/base.py",
                      f"--workdir={workdir}", f"--config.model.width={WIDTH}",
                      f"--config.data.root={data}", "--config.data.workers=0",
                      "--config.data.crop=32", "--config.global_batch=2", "--config.num_steps=1",
                      "--config.data.val_count=0", "--config.eval_every=0"],
                     cwd=REPO, env=cpu_env(), capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  assert calibrate.run_data(find_step_dir(str(workdir))) == str(data)
  assert calibrate.main([str(workdir), "--out", str(tmp_path / "cal"), "--pairs", "2",
                         "--size", "48"]) == 0
  assert "(the run's own training data)" in capsys.readouterr().out
  info = json.load(open(tmp_path / "cal" / pretrained.INFO_FILE))
  assert info["calibration"]["data"] == str(data)
  assert calibrate.run_data(str(tmp_path / "cal")) is None  # shipped format: synthetic


def test_a_style_only_run_keeps_its_init_calibration_and_default_output(tmp_path, capsys):
  """train_only='style' from calibrated weights: the trainer changes only the style
  layers, and calibrate writes the weights as they are, recording the inherited
  calibration, so the default style is still the init model pixel for pixel."""
  from lineart_jax import style as style_lib
  from lineart_jax.style import Style
  init, workdir, out = tmp_path / "init", tmp_path / "run", tmp_path / "shipped"
  base = calibrate.fold(_variables(), 1.5, -0.5)
  pretrained.save(ModelConfig(WIDTH), base, {"step": 5, "calibration": {"scale": 1.5,
                                                                      "shift": -0.5}}, str(init))
  p = subprocess.run([sys.executable, "-m", "lineart_jax.train", "--config=configs/base.py",
                      f"--workdir={workdir}", f"--config.model.width={WIDTH}",
                      f"--config.model.style_dims={style_lib.DIMS}", "--config.train_only=style",
                      f"--config.init_from={init}", "--config.optimizer.learning_rate=0.05",
                      "--config.data.workers=0", "--config.data.crop=32",
                      "--config.data.synthetic_size=64", "--config.global_batch=2",
                      "--config.num_steps=3", "--config.data.val_count=0",
                      "--config.eval_every=0"],
                     cwd=REPO, env=cpu_env(), capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  assert calibrate.main([str(workdir), "--out", str(out)]) == 0
  assert "not fitted again" in capsys.readouterr().out
  info = json.load(open(out / pretrained.INFO_FILE))
  assert info["calibration"]["scale"] == 1.5 and info["calibration"]["inherited_from"] == str(init)
  model, variables, _ = pretrained.load_weights(str(out))
  styled = AutoEncoder(width=WIDTH, style_dims=style_lib.DIMS)
  rgb = np.random.default_rng(0).integers(0, 256, (1, 32, 40, 3), np.uint8)
  want = np.asarray(predict_lines(AutoEncoder(width=WIDTH), base, rgb))
  np.testing.assert_array_equal(np.asarray(predict_lines(styled, variables, rgb)), want)
  # drawn tone: tone=dark is a weight-free output layer and would differ untrained
  bold = np.asarray(predict_lines(styled, variables, rgb, Style(2.0, 0.0, "drawn", "ink").vector()))
  assert np.abs(bold - want).max() > 1e-3  # the style layers trained
