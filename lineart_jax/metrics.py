"""Where training progress goes: console line, TensorBoard, metrics.jsonl.

``Chrono`` (after big_vision's) turns step counts into img/s, steps/s and an ETA;
``MetricWriter`` writes the same scalars to TensorBoard (tensorboardX) and to a
JSON-lines file, on process 0 only.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np


class Chrono:
  """Throughput and ETA over the last log interval (compile time excluded)."""

  def __init__(self, total_steps: int, global_batch: int, start_step: int):
    self.total_steps, self.global_batch = total_steps, global_batch
    self.start_step = self.last_step = start_step
    self.last_time = None

  def tick(self, step: int) -> dict[str, float]:
    """Rates since the previous tick; the first tick only starts the clock."""
    now = time.perf_counter()
    if self.last_time is None or step == self.last_step:
      self.last_time, self.last_step = now, step
      return {}
    steps_per_s = (step - self.last_step) / (now - self.last_time)
    self.last_time, self.last_step = now, step
    return {"steps_per_s": steps_per_s, "img_per_s": steps_per_s * self.global_batch,
            "eta_s": (self.total_steps - step) / steps_per_s}


def format_eta(seconds: float) -> str:
  seconds = int(seconds)
  d, rem = divmod(seconds, 86400)
  h, rem = divmod(rem, 3600)
  m, s = divmod(rem, 60)
  return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


class MetricWriter:
  """Scalars and images to TensorBoard and metrics.jsonl (no-op unless ``active``)."""

  def __init__(self, workdir: str, active: bool = True):
    self.active = active
    if not active:
      return
    from tensorboardX import SummaryWriter
    self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))
    self.jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a", encoding="utf-8")

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
