"""Output calibration: folding is exact, fitting finds a known map, the CLI writes weights."""

import json
import os
import subprocess
import sys

import jax
import numpy as np

from lineart_jax import calibrate, pretrained
from lineart_jax.model import AutoEncoder, init_variables, predict_lines

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
  pretrained.save({"width": WIDTH}, _variables(), {"step": 5, "command": "train it"}, str(src))
  run = lambda *a: subprocess.run([sys.executable, "-m", "lineart_jax.calibrate", *a], cwd=REPO,
                                  env=cpu_env(), capture_output=True, text=True, timeout=300)
  p = run(str(src), "--out", str(out), "--pairs", "2", "--size", "48")
  assert p.returncode == 0, p.stderr[-3000:]
  model, variables, what = pretrained.load_weights(str(out))
  info = json.load(open(out / pretrained.INFO_FILE))
  cal = info["calibration"]
  assert model == {"width": WIDTH} and info["step"] == 5
  assert info["command"].startswith("train it && python -m lineart_jax.calibrate")
  assert cal["loss_after"] <= cal["loss_before"] and cal["pairs"] == 2
  np.testing.assert_allclose(
      variables["params"][calibrate.last_layer()]["bias"],
      calibrate.fold(_variables(), cal["scale"], cal["shift"])["params"][
          calibrate.last_layer()]["bias"], rtol=1e-6)
  again = run(str(out), "--out", str(tmp_path / "twice"), "--pairs", "2", "--size", "48")
  assert again.returncode != 0 and "already calibrated" in again.stderr
  assert not os.path.exists(tmp_path / "twice")
