"""The training entry point: exact resume, SIGKILL, SIGTERM, non-finite loss."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import orbax.checkpoint as ocp

from subprocess_env import REPO, cpu_env

TINY = ["--config.model.width=0.0625", "--config.global_batch=4", "--config.data.crop=16",
        "--config.data.workers=0", "--config.data.val_count=2", "--config.eval_size=32",
        "--config.log_every=5", "--config.eval_every=0", "--config.optimizer.learning_rate=1e-3"]


def _cmd(workdir, *extra):
  return [sys.executable, "-m", "lineart_jax.train", "--config=configs/base.py",
          f"--workdir={workdir}", *TINY, *extra]


def _run(workdir, *extra, timeout=240):
  p = subprocess.run(_cmd(workdir, *extra), cwd=REPO, env=cpu_env(), capture_output=True,
                     text=True, timeout=timeout)
  return p


def _start(workdir, *extra):
  return subprocess.Popen(_cmd(workdir, *extra), cwd=REPO, env=cpu_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(path, proc, timeout=240):
  t0 = time.time()
  while not os.path.isdir(path):
    if proc.poll() is not None:
      raise AssertionError(f"run ended before {path} appeared:\n{proc.stdout.read()[-3000:]}")
    if time.time() - t0 > timeout:
      proc.kill()
      raise AssertionError(f"timed out waiting for {path}")
    time.sleep(0.005)


def _saved(workdir, step):
  state = ocp.StandardCheckpointer().restore(
      os.path.join(workdir, "checkpoints", str(step), "state"))
  return {"params": state["params"], "batch_stats": state["batch_stats"],
          "step": state["step"]}


def _leaves(tree, prefix=""):
  if isinstance(tree, dict):
    for k in sorted(tree):
      yield from _leaves(tree[k], f"{prefix}/{k}")
  else:
    yield prefix, np.asarray(tree)


def _kill_after_checkpoint(workdir, step, *extra):
  """Starts a run and SIGKILLs it once checkpoint ``step`` exists."""
  proc = _start(workdir, *extra)
  _wait_for(workdir / "checkpoints" / str(step), proc)
  proc.send_signal(signal.SIGKILL)
  proc.wait(timeout=60)
  assert proc.returncode == -signal.SIGKILL


def _assert_same_params(workdir_a, workdir_b, step):
  a, b = dict(_leaves(_saved(workdir_a, step))), dict(_leaves(_saved(workdir_b, step)))
  assert a.keys() == b.keys() and len(a) > 10
  for k in a:
    np.testing.assert_array_equal(a[k], b[k], err_msg=k)
  assert int(b["/step"]) == step


def test_sigkill_resume_is_bitwise_exact(tmp_path):
  # Steps are slowed by generating large synthetic illustrations, so the kill
  # lands well before step 40.
  slow = ["--config.data.synthetic_size=320", "--config.num_steps=40",
          "--config.checkpoint_every=20"]
  straight = tmp_path / "straight"
  p = _run(straight, *slow)
  assert p.returncode == 0, p.stderr[-3000:]

  killed = tmp_path / "killed"
  _kill_after_checkpoint(killed, 20, *slow)
  ckpts = killed / "checkpoints"
  assert not (ckpts / "40").exists()
  # What a SIGKILL during a save leaves: an unfinished temporary step folder.
  partial = ckpts / "39.orbax-checkpoint-tmp-1234"
  shutil.copytree(ckpts / "20", partial)
  shutil.rmtree(partial / "state")

  p = _run(killed, *slow)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "resumed from" in p.stderr
  _assert_same_params(straight, killed, 40)


def test_resumes_across_worker_counts_see_the_uninterrupted_batches(tmp_path):
  """2 workers -> SIGKILL -> 0 workers -> SIGKILL -> 0 workers: bitwise the straight run.

  The second resume is the one that replayed data when Grain's relative
  position was restored onto a stream rebuilt from batch 0.
  """
  slow = ["--config.data.synthetic_size=320", "--config.num_steps=30",
          "--config.checkpoint_every=10"]
  straight = tmp_path / "straight"
  p = _run(straight, *slow)
  assert p.returncode == 0, p.stderr[-3000:]
  resumed = tmp_path / "resumed"
  for workers, stop_after in ((2, 10), (0, 20)):
    _kill_after_checkpoint(resumed, stop_after, *slow, f"--config.data.workers={workers}")
    assert not (resumed / "checkpoints" / "30").exists()
  p = _run(resumed, *slow)
  assert p.returncode == 0, p.stderr[-3000:]
  assert "data position restored from Grain's state" in p.stderr
  _assert_same_params(straight, resumed, 30)
  lines = [json.loads(l) for l in open(resumed / "metrics.jsonl")]
  logged = [l["step"] for l in lines if "loss" in l]  # training lines (not evaluation's)
  assert logged == sorted(set(logged)) and logged[-1] == 30  # each step once, in order
  assert 11 in logged and 21 in logged  # the first step of each resumed process


def test_sigterm_saves_current_step_and_exits_zero(tmp_path):
  proc = _start(tmp_path, "--config.num_steps=100000", "--config.checkpoint_every=10",
                "--config.data.synthetic_size=320")
  _wait_for(tmp_path / "checkpoints" / "10", proc)
  time.sleep(0.5)
  proc.send_signal(signal.SIGTERM)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 0, out[-3000:]
  steps = sorted(int(d) for d in os.listdir(tmp_path / "checkpoints") if d.isdigit())
  last = steps[-1]
  assert f"stopped at step {last}" in out
  assert last > 10  # saved at the signal, after the periodic step-10 checkpoint
  logged = [json.loads(l)["step"] for l in open(tmp_path / "metrics.jsonl")]
  assert logged[-1] == last  # the final line is the step the checkpoint holds


def test_a_second_trainer_on_a_live_workdir_is_refused(tmp_path):
  """One writer per workdir: a second trainer exits 2 with one line naming the first
  (pid) and writes nothing; once the first is killed with SIGKILL, the workdir is
  free again (the kernel drops the lock with its process: nothing stale)."""
  first = _start(tmp_path, "--config.num_steps=100000", "--config.data.synthetic_size=32")
  try:
    _wait_for(str(tmp_path / "checkpoints"), first)  # made after the lock is taken
    config = (tmp_path / "config.json").read_text()
    p = _run(tmp_path, "--config.num_steps=2", "--config.model.width=0.125")
    assert p.returncode == 2, p.stderr[-3000:]
    refusal = [l for l in p.stderr.splitlines() if "in use by another trainer" in l]
    assert len(refusal) == 1 and f"pid {first.pid}" in refusal[0] and str(tmp_path) in refusal[0]
    assert (tmp_path / "config.json").read_text() == config  # the refused run wrote nothing
  finally:
    first.kill()
    first.wait()
  p = _run(tmp_path, "--config.num_steps=2", "--config.data.synthetic_size=32")
  assert p.returncode == 0, p.stderr[-3000:]


def test_incompatible_checkpoint_is_a_clear_error(tmp_path):
  p = _run(tmp_path, "--config.num_steps=2", "--config.checkpoint_every=2",
           "--config.data.synthetic_size=32")
  assert p.returncode == 0, p.stderr[-3000:]
  p = _run(tmp_path, "--config.num_steps=4", "--config.model.width=0.125",
           "--config.data.synthetic_size=32")
  assert p.returncode != 0
  assert "'width': 0.0625" in p.stderr and "'width': 0.125" in p.stderr


# A NaN loss (alpha=nan in the loss map), and an infinite learning rate: step 5's
# loss is finite, its updated parameters are not.  Neither state is checkpointed.
@pytest.mark.parametrize("fault,loss_finite", [("--config.loss.alpha=nan", False),
                                               ("--config.optimizer.learning_rate=inf", True)],
                         ids=["nan_loss", "inf_update"])
def test_non_finite_step_stops_and_keeps_last_good_checkpoint(tmp_path, fault, loss_finite):
  p = _run(tmp_path, "--config.num_steps=4", "--config.checkpoint_every=4",
           "--config.data.synthetic_size=32")
  assert p.returncode == 0, p.stderr[-3000:]
  p = _run(tmp_path, "--config.num_steps=8", "--config.checkpoint_every=1",
           "--config.data.synthetic_size=32", fault)
  assert p.returncode == 2, p.stderr[-3000:]
  match = re.search(r"non-finite training state at step 5 \(loss ([^,]+),", p.stderr)
  assert match and np.isfinite(float(match.group(1))) == loss_finite, p.stderr[-2000:]
  steps = sorted(int(d) for d in os.listdir(tmp_path / "checkpoints") if d.isdigit())
  assert steps == [4]  # no checkpoint of the bad state
  assert all(np.all(np.isfinite(v)) for _, v in _leaves(_saved(tmp_path, 4)))


def test_unknown_config_key_is_rejected(tmp_path):
  p = _run(tmp_path, "--config.no_such_field=1")
  assert p.returncode != 0 and "no_such_field" in p.stderr
