"""Checkpoints move between machines: written by 4 devices, read by 1 for inference."""

import subprocess
import sys

import numpy as np

from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_line, write_png

from subprocess_env import REPO, cpu_env

WIDTH = 0.0625

# Run in the 4-device process: restore the whole train state the way training
# does (sharded over the 4-device mesh) and save the model's float output.
PREDICT_AS_TRAINED = """
import sys
import numpy as np
from lineart_jax import sharding
from lineart_jax.checkpointing import Checkpointer
from lineart_jax.model import AutoEncoder, ModelConfig, predict_lines
from lineart_jax.train_step import create_train_state, make_optimizer
import jax
assert jax.device_count() == 4, jax.devices()
mesh = sharding.make_mesh()
model = AutoEncoder(width=float(sys.argv[4]))
state = create_train_state(model, make_optimizer(1e-3), 0, mesh)
ckpt = Checkpointer(sys.argv[1] + "/checkpoints", ModelConfig(float(sys.argv[4])))
state, _ = ckpt.restore(state, None)
variables = {"params": state.params, "batch_stats": state.batch_stats}
np.save(sys.argv[3], np.asarray(predict_lines(model, variables, np.load(sys.argv[2])[None])))
"""

PREDICT_ON_ONE_DEVICE = """
import sys
import numpy as np
import jax
assert jax.device_count() == 1, jax.devices()
from lineart_jax.infer import NetworkExtractor
np.save(sys.argv[3], NetworkExtractor.from_weights(sys.argv[1]).predict(np.load(sys.argv[2])[None]))
"""


def _run(args, devices):
  p = subprocess.run([sys.executable, *args], cwd=REPO, env=cpu_env(devices), capture_output=True,
                     text=True, timeout=300)
  assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-3000:])
  return p


def test_four_device_checkpoint_runs_on_one_device(tmp_path):
  workdir = tmp_path / "run"
  _run(["-m", "lineart_jax.train", "--config=configs/demo.py", f"--workdir={workdir}",
        "--config.num_steps=2", "--config.checkpoint_every=2", "--config.eval_every=0",
        f"--config.model.width={WIDTH}", "--config.global_batch=4", "--config.data.crop=16",
        "--config.data.workers=0", "--config.data.synthetic_size=32",
        "--config.data.val_count=2", "--config.eval_size=32"], devices=4)

  color, _ = synthetic.make_pair(5, 0, 48)
  np.save(tmp_path / "color.npy", color)
  _run(["-c", PREDICT_AS_TRAINED, str(workdir), str(tmp_path / "color.npy"),
        str(tmp_path / "four.npy"), str(WIDTH)], devices=4)
  _run(["-c", PREDICT_ON_ONE_DEVICE, str(workdir), str(tmp_path / "color.npy"),
        str(tmp_path / "one.npy")], devices=1)
  four, one = np.load(tmp_path / "four.npy"), np.load(tmp_path / "one.npy")
  assert four.shape == one.shape == (1, 48, 48)
  assert np.max(np.abs(four - one)) < 1e-5
  assert np.std(four) > 0  # a real output, not a constant

  # The CLIs, in a 1-device process, from the workdir and from a step folder.
  write_png(str(tmp_path / "art.png"), color)
  _run(["-m", "lineart_jax.infer", str(tmp_path / "art.png"), f"--workdir={workdir}",
        f"--out={tmp_path / 'out'}"], devices=1)
  lines = read_line(str(tmp_path / "out" / "art_lineart.png")).astype(np.float32) / 255
  assert np.max(np.abs(lines - four[0])) <= 0.5 / 255 + 1e-5  # the same lines, quantised
  synthetic.write_dataset(str(tmp_path / "pairs"), 2, size=40)
  p = _run(["-m", "lineart_jax.evaluate", f"--checkpoint={workdir / 'checkpoints' / '2'}",
            f"--data={tmp_path / 'pairs'}"], devices=1)
  assert "model" in p.stdout and "opencv" in p.stdout and "gray" in p.stdout
