"""The shipped model: it loads, runs out of the box, and training starts from it."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from lineart_jax import infer, pretrained
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_line, write_png
from lineart_jax.model import AutoEncoder, ModelConfig, from_config, init_variables

from subprocess_env import REPO, cpu_env


def test_shipped_weights_load_with_the_model_tree():
  assert pretrained.available(), "lineart_jax/pretrained/lineart.{msgpack,json} are missing"
  model_cfg, variables, info = pretrained.load()
  steps = info["step"] if isinstance(info["step"], list) else [info["step"]]  # a soup: a list
  assert info["command"] and steps and all(step > 0 for step in steps)
  want = jax.eval_shape(lambda: init_variables(from_config(model_cfg), 0))
  shapes = lambda t: jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), t)
  assert shapes(variables) == shapes(dict(want))
  assert os.path.getsize(pretrained.WEIGHTS) < 25 * 2**20


def test_infer_with_no_checkpoint_uses_the_shipped_model(tmp_path, capsys):
  color, line = synthetic.make_pair(11, 0, 64)
  write_png(str(tmp_path / "art.png"), color)
  assert infer.main([str(tmp_path / "art.png"), "--out", str(tmp_path / "out")]) == 0
  assert "the shipped model" in capsys.readouterr().err
  lines = read_line(str(tmp_path / "out" / "art_lineart.png"))
  assert lines.shape == (64, 64)
  # A trained model: its ink lies where the drawing's is (F@2 at the best threshold;
  # an all-gray output scores 0.81 on this pair, where half the pixels are ink, a
  # blank one 0).
  from lineart_jax.evaluation import score
  assert score([lines / 255.0], [line / 255.0])["f_score"] > 0.9


def test_evaluate_scores_the_shipped_model_on_whole_images(tmp_path):
  synthetic.write_dataset(str(tmp_path / "pairs"), 2, seed=7, size=72)
  p = subprocess.run([sys.executable, "-m", "lineart_jax.evaluate", "--pretrained",
                      f"--data={tmp_path / 'pairs'}", f"--csv={tmp_path / 'scores.csv'}",
                      f"--panels={tmp_path / 'panels'}"], cwd=REPO, env=cpu_env(),
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "the shipped model" in p.stdout
  rows = {line.split()[0]: line.split() for line in p.stdout.splitlines() if line.strip()}
  assert {"model", "opencv", "gray"} <= set(rows)
  assert len(open(tmp_path / "scores.csv").read().strip().splitlines()) == 3  # header + 2
  assert len(os.listdir(tmp_path / "panels")) == 2


def test_fine_tuning_starts_from_the_shipped_weights(tmp_path):
  """One step at learning rate 0: the saved parameters are the shipped ones exactly,
  in a network with skips and edge maps added (their layers start at zero)."""
  model_cfg, shipped, _ = pretrained.load()
  workdir = tmp_path / "run"
  p = subprocess.run([sys.executable, "-m", "lineart_jax.train", "--config=configs/base.py",
                      f"--workdir={workdir}", "--config.init_from=pretrained",
                      f"--config.model.width={model_cfg.width}", "--config.num_steps=1",
                      "--config.model.arch=skip", f"--config.model.edges={model_cfg.edges or 2}",
                      "--config.global_batch=2", "--config.data.crop=16",
                      "--config.data.workers=0", "--config.data.synthetic_size=32",
                      "--config.data.val_count=2", "--config.eval_size=32",
                      "--config.eval_every=0", "--config.optimizer.learning_rate=0"],
                     cwd=REPO, env=cpu_env(), capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "initialised from the shipped model" in p.stderr
  _, trained, _ = pretrained.load_weights(str(workdir))
  for name, layer in trained["params"].items():
    for k, a in layer.items():
      b = shipped["params"].get(name, {}).get(k, np.zeros_like(a))  # new layers: zero
      if b.shape != a.shape:  # the input skip, grown by the edge maps' channels: zero rows
        assert name == "skip_full" and a.shape[2] > b.shape[2], (name, a.shape, b.shape)
        a, rest = a[:, :, :b.shape[2]], a[:, :, b.shape[2]:]
        assert np.all(rest == 0), name
      np.testing.assert_array_equal(a, b, err_msg=f"{name}/{k}")
  with open(workdir / "config.json") as f:
    assert json.load(f)["init_from"] == "pretrained"


def test_init_from_another_width_is_a_clear_error(tmp_path):
  model_cfg, _, _ = pretrained.load()
  p = subprocess.run([sys.executable, "-m", "lineart_jax.train", "--config=configs/base.py",
                      f"--workdir={tmp_path}", "--config.init_from=pretrained",
                      f"--config.model.width={model_cfg.width / 2}",
                      "--config.num_steps=1", "--config.data.workers=0"],
                     cwd=REPO, env=cpu_env(), capture_output=True, text=True, timeout=300)
  assert p.returncode != 0
  assert f"--config.model.width={model_cfg.width}" in p.stderr


def test_weights_in_the_shipped_format_load_from_any_folder(tmp_path):
  """``python -m lineart_jax.pretrained RUN --out DIR`` output is a valid --checkpoint."""
  variables = jax.tree.map(np.asarray, init_variables(AutoEncoder(width=0.0625), 3))
  pretrained.save(ModelConfig(0.0625), variables, {"step": 7}, str(tmp_path))
  model_cfg, loaded, what = pretrained.load_weights(str(tmp_path))
  assert model_cfg == ModelConfig(0.0625) and f"weights ({tmp_path}" in what and "step 7" in what
  for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(dict(variables))):
    np.testing.assert_array_equal(a, b)
  color, _ = synthetic.make_pair(11, 0, 32)
  write_png(str(tmp_path / "art.png"), color)
  assert infer.main([str(tmp_path / "art.png"), "--checkpoint", str(tmp_path),
                     "--out", str(tmp_path / "out")]) == 0
  assert read_line(str(tmp_path / "out" / "art_lineart.png")).shape == (32, 32)


def test_average_of_runs_is_their_mean_and_refuses_different_networks():
  """``python -m lineart_jax.pretrained RUN RUN ...`` writes the runs' average (a
  model soup): every parameter and BatchNorm statistic is the mean; runs of
  different networks are an error naming both, not a silent broadcast."""
  a = jax.tree.map(np.asarray, init_variables(AutoEncoder(width=0.0625), 3))
  b = jax.tree.map(lambda x: np.asarray(x) * 3.0 + 1.0, a)
  mean = pretrained.average([("a", ModelConfig(0.0625), a), ("b", ModelConfig(0.0625), b)])
  for m, x in zip(jax.tree.leaves(mean), jax.tree.leaves(a)):
    np.testing.assert_allclose(m, x * 2.0 + 0.5, rtol=1e-6, atol=1e-6)
  assert {"params", "batch_stats"} <= set(mean)
  wide = jax.tree.map(np.asarray, init_variables(AutoEncoder(width=0.125), 3))
  with pytest.raises(ValueError, match="cannot average b with a"):
    pretrained.average([("a", ModelConfig(0.0625), a), ("b", ModelConfig(0.125), wide)])
