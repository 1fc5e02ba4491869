"""Where training progress goes: console line, TensorBoard, metrics.jsonl.

``Chrono`` (after big_vision's) turns step counts into img/s, steps/s and an ETA;
``MetricWriter`` writes the same scalars to TensorBoard (tensorboardX) and to a
JSON-lines file, on process 0 only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time

import numpy as np


class Chrono:
  """Throughput and ETA over the last log interval.

  Compile time is excluded (the clock starts at the first tick), and so is any
  time spent inside ``paused()`` (evaluation, checkpoint saves): img/s is the
  training rate, as big_vision's chrono reports it.
  """

  def __init__(self, total_steps: int, global_batch: int, start_step: int):
    self.total_steps, self.global_batch = total_steps, global_batch
    self.start_step = self.last_step = start_step
    self.last_time = None
    self.paused_s = 0.0  # paused time since the last tick

  @contextlib.contextmanager
  def paused(self):
    start = time.perf_counter()
    try:
      yield
    finally:
      self.paused_s += time.perf_counter() - start

  def tick(self, step: int) -> dict[str, float]:
    """Rates since the previous tick; the first tick only starts the clock."""
    now = time.perf_counter()
    paused, self.paused_s = self.paused_s, 0.0
    if self.last_time is None or step == self.last_step:
      self.last_time, self.last_step = now, step
      return {}
    steps_per_s = (step - self.last_step) / max(now - self.last_time - paused, 1e-9)
    self.last_time, self.last_step = now, step
    return {"steps_per_s": steps_per_s, "img_per_s": steps_per_s * self.global_batch,
            "eta_s": (self.total_steps - step) / steps_per_s}


def format_eta(seconds: float) -> str:
  seconds = int(seconds)
  d, rem = divmod(seconds, 86400)
  h, rem = divmod(rem, 3600)
  m, s = divmod(rem, 60)
  return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def truncate_jsonl(path: str, last_step: int) -> None:
  """Drops the lines of ``path`` logged after ``last_step``.

  A resumed run repeats the steps between its checkpoint and the kill; without
  this they would appear twice.  Rewritten to a temporary file and renamed, so
  an interruption leaves the old file.
  """
  if not os.path.exists(path):
    return
  with open(path, encoding="utf-8") as f:
    lines = f.readlines()
  keep = []
  for line in lines:
    try:
      if json.loads(line)["step"] <= last_step:
        keep.append(line)
    except (ValueError, KeyError, TypeError):
      pass  # a line cut short by a kill
  if len(keep) != len(lines):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
      f.writelines(keep)
    os.replace(path + ".tmp", path)


class MetricWriter:
  """Scalars and images to TensorBoard and metrics.jsonl (no-op unless ``active``).

  ``start_step``: the step the run (re)starts from; lines logged after it by an
  earlier, interrupted process are dropped, so each step appears once.
  """

  def __init__(self, workdir: str, active: bool = True, start_step: int = 0):
    self.active = active
    if not active:
      return
    from tensorboardX import SummaryWriter
    self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))
    path = os.path.join(workdir, "metrics.jsonl")
    truncate_jsonl(path, start_step)
    self.jsonl = open(path, "a", encoding="utf-8")

  def scalars(self, step: int, values: dict[str, float]) -> None:
    if not self.active:
      return
    for k, v in values.items():
      self.tb.add_scalar(k, float(v), step)
    self.jsonl.write(json.dumps({"step": int(step), **{k: float(v) for k, v in values.items()}})
                     + "\n")
    self.jsonl.flush()

  def image(self, step: int, tag: str, image: np.ndarray) -> None:
    """``image``: (H, W, 3) uint8 RGB."""
    if self.active:
      self.tb.add_image(tag, image, step, dataformats="HWC")

  def close(self) -> None:
    if self.active:
      self.tb.close()
      self.jsonl.close()


class _QuietLibraries(logging.Filter):
  """Drops INFO chatter of orbax and grain (dozens of lines per checkpoint), and
  the tracebacks orbax's writer threads log for a failed save: the trainer
  reports that failure in one line of its own (``CheckpointSaveError``)."""

  def filter(self, record):
    if "/orbax/" not in record.pathname and "/grain/" not in record.pathname:
      return True
    if record.levelno < logging.WARNING:
      return False
    if record.exc_info and "/orbax/" in record.pathname:
      return False  # the exception reaches the trainer, which reports it
    return True


def quiet_library_logs() -> None:
  """Console logs through absl's handler, without orbax's and grain's INFO chatter."""
  from absl import logging as absl_logging
  absl_logging.use_absl_handler()
  handler = absl_logging.get_absl_handler().python_handler
  if not any(isinstance(f, _QuietLibraries) for f in handler.filters):
    handler.addFilter(_QuietLibraries())
