"""Two processes x 2 CPU devices (jax.distributed on 127.0.0.1, gloo) == 1 x 4."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from subprocess_env import REPO, cpu_env

CONFIG = ["--config=configs/base.py", "--config.model.width=0.0625",
          "--config.global_batch=8", "--config.data.crop=16", "--config.data.workers=0",
          "--config.data.synthetic_size=32", "--config.data.val_count=2",
          "--config.eval_size=32", "--config.log_every=1", "--config.eval_every=0",
          "--config.checkpoint_every=5", "--config.optimizer.learning_rate=1e-4",
          # As in test_train_step: with Adam's default eps, reduction-order noise in
          # ~1e-8 gradients (2 processes vs 1) becomes full +-lr updates; this eps
          # keeps such updates near zero, and the small lr keeps this tiny network's
          # float differences from growing over 7 steps beyond rtol 1e-5.
          "--config.optimizer.eps=1e-3"]
LAUNCH_SCRIPTS = ["launch/local.sh", "launch/multi_gpu.sh", "launch/slurm.sbatch", ".ci/run",
                  "bench/gpu.sh", "launch/pretrain_gpu.sh", "launch/pretrain.sh", "launch/soup.sh",
                  "launch/recipe.sh"]


def _losses(workdir):
  records = map(json.loads, open(os.path.join(workdir, "metrics.jsonl")))
  return {r["step"]: r["loss"] for r in records if "loss" in r}


def _one_process(workdir, steps):
  p = subprocess.run([sys.executable, "-m", "lineart_jax.train", *CONFIG,
                      f"--workdir={workdir}", f"--config.num_steps={steps}"], cwd=REPO,
                     env=cpu_env(devices=4),
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  return p


@pytest.mark.parametrize("script", LAUNCH_SCRIPTS)
def test_launch_scripts_pass_bash_n_and_shellcheck(script):
  path = os.path.join(REPO, script)
  assert subprocess.run(["bash", "-n", path]).returncode == 0
  shellcheck = shutil.which("shellcheck") or os.path.join(os.path.dirname(sys.executable),
                                                           "shellcheck")
  p = subprocess.run([shellcheck, path], capture_output=True, text=True)
  assert p.returncode == 0, p.stdout


def _pretrain_commands(tmp_path, frames: str, script: str = "launch/pretrain.sh"
                       ) -> subprocess.CompletedProcess:
  """``script`` with FRAMES=``frames`` and a ``python`` that only prints its
  arguments: the commands the recipe would run."""
  fake = tmp_path / "bin"
  fake.mkdir(exist_ok=True)
  (fake / "python").write_text('#!/usr/bin/env bash\necho "python $*"\n')
  (fake / "python").chmod(0o755)
  env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", FRAMES=frames, INIT="")
  return subprocess.run(["bash", script, str(tmp_path / "runs")], cwd=REPO,
                        env=env, capture_output=True, text=True, timeout=60)


def test_pretrain_sh_draws_each_frames_kind_and_refuses_an_unknown_one_first(tmp_path):
  bright = _pretrain_commands(tmp_path, "bright")
  assert bright.returncode == 0, bright.stderr
  synthetic = [c for c in bright.stdout.splitlines() if "lineart_jax.data.synthetic" in c]
  assert len(synthetic) == 2, bright.stdout  # stage 1's pairs (no INIT), then stage 2's
  assert "--seed 17" in synthetic[1] and "--bright-traces 0.5" in synthetic[1], synthetic
  assert "data_stage2_bright_packed" in bright.stdout
  soft = _pretrain_commands(tmp_path, "soft")  # bright's pairs, more of them soft
  assert soft.returncode == 0, soft.stderr
  stage2 = [c for c in soft.stdout.splitlines() if "lineart_jax.data.synthetic" in c][1]
  assert "--bright-traces 0.5" in stage2 and "--soft-frames 0.8" in stage2, stage2
  typo = _pretrain_commands(tmp_path, "brigth")
  assert typo.returncode != 0 and "brigth" in typo.stderr
  assert typo.stdout == ""  # nothing ran: not even stage 1's 16 hours


def test_recipe_sh_trains_every_stage_from_the_one_before_and_skips_finished_ones(tmp_path):
  def trainings():
    p = _pretrain_commands(tmp_path, "", "launch/recipe.sh")  # the caller's FRAMES unused
    assert p.returncode == 0, p.stderr
    runs = str(tmp_path / "runs")
    found = []
    for command in p.stdout.splitlines():
      if "lineart_jax.train" in command:
        args = dict(a.split("=", 1) for a in command.split() if "=" in a)
        found.append((os.path.basename(args["--config"]),
                      args.get("--config.init_from", "").replace(runs, "RUNS")))
    return found

  assert trainings() == [
      ("pretrained_gpu.py", ""), ("pretrained_finetune.py", "RUNS/base/stage1"),
      ("style_finetune.py", "RUNS/base/shipped"),
      ("contours_finetune.py", "RUNS/style/shipped"),
      *[("traced_finetune.py", "RUNS/contours/shipped")] * 2,
      *[("traced_finetune.py", "RUNS/traced/shipped")] * 2,
      *[("skips_finetune.py", "RUNS/bright/shipped")] * 2]
  for done in ("base", "style"):
    os.makedirs(tmp_path / "runs" / done / "shipped")
    (tmp_path / "runs" / done / "shipped" / "lineart.json").write_text("{}")
  assert trainings()[0] == ("contours_finetune.py", "RUNS/style/shipped")


def test_two_processes_match_one_process_and_resume_on_one(tmp_path):
  multi, single = tmp_path / "multi", tmp_path / "single"
  p = subprocess.run(["bash", "launch/local.sh", "2", *CONFIG, f"--workdir={multi}",
                      "--config.num_steps=5"], cwd=REPO, capture_output=True, text=True,
                     timeout=300, env=cpu_env(LINEART_CPU_DEVICES="2",
                                           LINEART_LAUNCH_LOGS=str(tmp_path / "logs")))
  logs = "".join(open(tmp_path / "logs" / f).read() for f in os.listdir(tmp_path / "logs"))
  assert p.returncode == 0, p.stderr[-3000:] + logs[-3000:]
  assert "process 0 of 2 (2 local devices, 4 in all)" in p.stderr
  _one_process(single, 5)
  a, b = _losses(multi), _losses(single)
  assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5]
  np.testing.assert_allclose([a[s] for s in a], [b[s] for s in a], rtol=1e-5)
  assert os.path.isdir(multi / "checkpoints" / "5")

  # One process continues the two-process run (its data position is recomputed
  # from the step) exactly as the one-process run continues its own.
  p = _one_process(multi, 7)
  assert "resumed from" in p.stderr and "recomputed from the step" in p.stderr
  _one_process(single, 7)
  a, b = _losses(multi), _losses(single)
  np.testing.assert_allclose([a[6], a[7]], [b[6], b[7]], rtol=1e-5)
