"""The training entry point: exact resume, SIGKILL, SIGTERM, non-finite loss, one
trainer per workdir, a damaged checkpoint, a full disk."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import orbax.checkpoint as ocp

from lineart_jax import _malloc
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


def _descendants(pid):
  """Live (non-zombie) processes below ``pid``, from /proc."""
  children = {}
  for entry in os.listdir("/proc"):
    if entry.isdigit():
      try:
        stat = open(f"/proc/{entry}/stat").read()
      except OSError:
        continue
      state, ppid = stat.rsplit(")", 1)[1].split()[:2]
      if state != "Z":
        children.setdefault(int(ppid), []).append(int(entry))
  out, todo = [], [pid]
  while todo:
    for child in children.get(todo.pop(), []):
      out.append(child)
      todo.append(child)
  return out


def _alive(pid):
  try:
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
  except OSError:
    return False


def _kill_after_checkpoint(workdir, step, *extra):
  """Starts a run, SIGKILLs it once checkpoint ``step`` exists, and checks that
  no process it started (loader workers) outlives it; returns how many it had."""
  proc = _start(workdir, *extra)
  _wait_for(workdir / "checkpoints" / str(step), proc)
  workers = _descendants(proc.pid)
  proc.send_signal(signal.SIGKILL)
  proc.wait(timeout=60)
  assert proc.returncode == -signal.SIGKILL
  deadline = time.time() + 10
  while any(_alive(p) for p in workers) and time.time() < deadline:
    time.sleep(0.1)
  orphans = [p for p in workers if _alive(p)]
  for p in orphans:  # don't leave them to the rest of the suite
    os.kill(p, signal.SIGKILL)
  assert not orphans, f"processes of the killed trainer still alive: {orphans}"
  return len(workers)


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
    started = _kill_after_checkpoint(resumed, stop_after, *slow,
                                     f"--config.data.workers={workers}")
    assert started >= workers  # the loader workers, all ended with their trainer
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


def test_time_limit_stops_with_a_checkpoint(tmp_path):
  p = _run(tmp_path, "--config.num_steps=100000", "--config.checkpoint_every=100000",
           "--config.data.synthetic_size=32", "--config.max_minutes=0.002")
  assert p.returncode == 0, p.stderr[-3000:]
  match = re.search(r"time limit of 0.002 minutes reached at step (\d+)", p.stderr)
  assert match, p.stderr[-3000:]
  assert os.listdir(tmp_path / "checkpoints") == [match.group(1)]
  if _malloc.glibc():  # training processes keep freed step buffers (lineart_jax/_malloc.py)
    assert "malloc: freed step buffers are kept for reuse" in p.stderr, p.stderr[-3000:]


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


def _truncate_largest_file(step_dir):
  files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(step_dir, "state"))
           for f in fs]
  largest = max(files, key=os.path.getsize)
  assert os.path.getsize(largest) > 10_000
  os.truncate(largest, 1000)  # what a copy cut short or a storage fault leaves


def test_damaged_latest_checkpoint_resumes_from_the_previous_one(tmp_path):
  """A truncated newest checkpoint: one warning line, the run resumes bitwise as
  from the previous checkpoint and the bad one is set aside; with resume_strict it
  is an error; infer names the damaged checkpoint."""
  short = ["--config.data.synthetic_size=32", "--config.checkpoint_every=2"]
  damaged = tmp_path / "damaged"
  p = _run(damaged, *short, "--config.num_steps=6")
  assert p.returncode == 0, p.stderr[-3000:]
  previous = tmp_path / "previous"  # the same run, its step-6 checkpoint never written
  shutil.copytree(damaged, previous)
  shutil.rmtree(previous / "checkpoints" / "6")
  _truncate_largest_file(damaged / "checkpoints" / "6")
  strict = tmp_path / "strict"
  shutil.copytree(damaged, strict)

  p = _run(strict, *short, "--config.num_steps=8", "--config.resume_strict=True")
  assert p.returncode == 2
  errors = [l for l in p.stderr.splitlines() if "cannot be read" in l]
  assert len(errors) == 1 and "step 6" in errors[0] and "resume_strict" in errors[0]
  assert "Traceback" not in p.stderr

  for workdir in (previous, damaged):  # the damaged one last: its log is checked below
    p = _run(workdir, *short, "--config.num_steps=8")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "resumed from" in p.stderr and "at step 4" in p.stderr
    warnings = [l for l in p.stderr.splitlines() if "cannot be read" in l]
    assert len(warnings) == (workdir == damaged), p.stderr[-3000:]
  assert f"checkpoint step 6 ({damaged / 'checkpoints' / '6'})" in warnings[0]
  assert "Traceback" not in p.stderr and len(p.stderr.splitlines()) < 40
  _assert_same_params(previous, damaged, 8)
  aside = damaged / "unreadable_checkpoints" / "6"
  assert (aside / "state").is_dir()  # set aside; the resumed run wrote a new step 6

  for d, _, files in os.walk(aside / "state"):  # its parameters too (infer reads no more)
    for f in files:
      if os.path.getsize(os.path.join(d, f)) > 10_000:
        os.truncate(os.path.join(d, f), 1000)
  image = tmp_path / "drawing.png"
  cv2.imwrite(str(image), np.full((32, 32, 3), 200, np.uint8))
  p = subprocess.run([sys.executable, "-m", "lineart_jax.infer", str(image),
                      f"--checkpoint={aside}", f"--out={tmp_path / 'out'}"], cwd=REPO,
                     env=cpu_env(), capture_output=True, text=True, timeout=120)
  assert p.returncode == 2, p.stderr[-3000:]
  assert f"checkpoint {aside} cannot be read" in p.stderr


# Runs the trainer with a file-size limit from its second checkpoint on (after the
# first is complete): every write of a checkpoint file then fails with EFBIG, as on
# a full disk, through orbax's real writers.
_FULL_DISK_AFTER_FIRST_SAVE = """
import resource, signal, sys
from lineart_jax import checkpointing
save, saves = checkpointing.Checkpointer.save, []
def limited_save(self, step, state, stream):
  saves.append(step)
  if len(saves) == 2:
    self.wait()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
  return save(self, step, state, stream)
checkpointing.Checkpointer.save = limited_save
from absl import app
from lineart_jax import train
sys.argv = ["train"] + sys.argv[1:]
app.run(train.main)
"""


def test_failed_save_is_one_line_and_keeps_the_last_checkpoint(tmp_path):
  args = _cmd(tmp_path, "--config.data.synthetic_size=32", "--config.checkpoint_every=2",
              "--config.num_steps=8")[3:]
  p = subprocess.run([sys.executable, "-c", _FULL_DISK_AFTER_FIRST_SAVE, *args], cwd=REPO,
                     env=cpu_env(), capture_output=True, text=True, timeout=240)
  assert p.returncode == 2, p.stderr[-3000:]
  failed = [l for l in p.stderr.splitlines() if "saving checkpoint" in l]
  assert len(failed) == 1, p.stderr[-3000:]
  assert (f"step 4 to {tmp_path / 'checkpoints' / '4'} failed" in failed[0]
          and "File too large" in failed[0] and "step 2" in failed[0] and "is kept" in failed[0])
  assert "Traceback" not in p.stderr
  assert os.listdir(tmp_path / "checkpoints") == ["2"]  # no partial folder left

  p = _run(tmp_path, "--config.data.synthetic_size=32", "--config.checkpoint_every=2",
           "--config.num_steps=8")  # space freed: resumes from the kept checkpoint
  assert p.returncode == 0, p.stderr[-3000:]
  assert "at step 2" in p.stderr


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
