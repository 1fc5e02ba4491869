"""Orbax checkpoints of the train state together with the Grain iterator state.

One ``CheckpointManager`` in ``WORKDIR/checkpoints``; each step folder holds

* ``state``: the ``TrainState`` (params, batch_stats, optimizer, step, RNG);
* ``data``: the Grain iterator position (``grain.checkpoint``), so a resumed run
  continues with exactly the next batch;
* ``model``: the model config (JSON), to refuse a checkpoint of another network
  with a message naming both configs;
* ``run``: the data stream's position record (``TrainStream.position()``: the
  batch its stream was built at, the process and loader-worker counts that
  Grain's state format depends on).  ``TrainStream`` alone decides how a saved
  position is resumed.

Saves are asynchronous (the copy to host blocks, the write does not) and atomic:
Orbax writes to a temporary folder and renames it when complete, so a process
killed mid-write leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

import os
from typing import Any

import grain
import jax
import numpy as np
import orbax.checkpoint as ocp

from lineart_jax.data.pipeline import TrainStream
from lineart_jax.model import normalize_config


class IncompatibleCheckpointError(ValueError):
  pass


class Checkpointer:

  def __init__(self, directory: str, model_config: dict, max_to_keep: int = 3,
               async_save: bool = True):
    self.directory = os.path.abspath(directory)
    self.model_config = normalize_config(model_config)  # every field, written in full
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, enable_async_checkpointing=async_save,
            create=True, cleanup_tmp_directories=True),
        item_names=("state", "data", "model", "run"))

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def save(self, step: int, state: Any, stream: TrainStream | None) -> None:
    items = {"state": ocp.args.StandardSave(state),
             "model": ocp.args.JsonSave(self.model_config),
             "run": ocp.args.JsonSave(stream.position() if stream else {})}
    if stream is not None:
      items["data"] = grain.checkpoint.CheckpointSave(stream.iterator)
    self.manager.save(step, args=ocp.args.Composite(**items), force=True)

  def reached_preemption(self, step: int) -> bool:
    """Orbax's multi-process preemption notice (needs jax.distributed)."""
    return self.manager.reached_preemption(step)

  def restore(self, state: Any, stream: TrainStream | None,
              step: int | None = None) -> tuple[Any, bool]:
    """(state at ``step`` (default latest), whether Grain's saved state was used).

    ``stream`` is (re)started where the checkpoint's data position says: at its
    recorded stream start with Grain's state restored when the formats match,
    else at the restored step.
    """
    step = self.latest_step() if step is None else step
    path = os.path.join(self.directory, str(step))
    saved = self.manager.restore(step, args=ocp.args.Composite(
        model=ocp.args.JsonRestore(), run=ocp.args.JsonRestore()))
    saved_model = saved["model"]
    saved_model = normalize_config(saved_model)  # older checkpoints: width only
    if saved_model != self.model_config:
      diff = {k: (saved_model.get(k), self.model_config.get(k))
              for k in sorted(set(saved_model) | set(self.model_config))
              if saved_model.get(k) != self.model_config.get(k)}
      raise IncompatibleCheckpointError(
          f"checkpoint {path} was written for model {saved_model}, but the config asks for "
          f"{self.model_config} (differences, checkpoint vs config: {diff}). Use another "
          "--workdir or the checkpoint's model settings.")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    items = {"state": ocp.args.StandardRestore(abstract)}
    restore_data = (stream is not None and stream.can_restore(saved["run"])
                    and os.path.isdir(os.path.join(path, "data")))
    if restore_data:
      stream.start(saved["run"]["start_batch"])
      items["data"] = grain.checkpoint.CheckpointRestore(stream.iterator)
    try:
      restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    except (ValueError, KeyError, TypeError) as e:
      raise IncompatibleCheckpointError(
          f"checkpoint {path} does not match the train state this config builds "
          f"(model {self.model_config}): {e}") from e
    if stream is not None and not restore_data:
      stream.start(int(restored["state"].step))  # the stream is a function of the step
    return restored["state"], restore_data

  def wait(self) -> None:
    self.manager.wait_until_finished()

  def close(self) -> None:
    self.manager.close()


def find_step_dir(path: str) -> str:
  """The checkpoint step folder of ``path``: a workdir (its latest checkpoint),
  its ``checkpoints`` folder, or one step folder (``.../checkpoints/1500``)."""
  path = os.path.abspath(path)
  for folder in (path, os.path.join(path, "checkpoints")):
    if os.path.isdir(os.path.join(folder, "state")):
      return folder
    steps = [int(d) for d in os.listdir(folder) if d.isdigit()] if os.path.isdir(folder) else []
    if steps:
      return os.path.join(folder, str(max(steps)))
  raise FileNotFoundError(f"{path}: no checkpoint found (expected a workdir, its "
                          "checkpoints/ folder or a checkpoint step folder)")


INFERENCE_ITEMS = ("params", "batch_stats", "step")


def load_variables(path: str) -> tuple[dict, dict, int]:
  """(model config, {'params', 'batch_stats'} as host numpy, step) for inference.

  Reads only the parameters, BatchNorm statistics and step, never the Adam
  state, and restores them as numpy arrays against the shapes in the
  checkpoint's own metadata: a checkpoint written by any number of devices and
  processes loads in a process with any devices (orbax's default restore wants
  the saved topology).  ``path``: see ``find_step_dir``.
  """
  step_dir = find_step_dir(path)
  state_dir = os.path.join(step_dir, "state")
  with ocp.PyTreeCheckpointer() as ckptr:
    metadata = ckptr.metadata(state_dir)
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    missing = [k for k in INFERENCE_ITEMS if k not in tree]
    if missing:
      raise IncompatibleCheckpointError(f"{state_dir}: no {missing} in this checkpoint")
    wanted = {k: tree[k] for k in INFERENCE_ITEMS}
    target = jax.tree.map(lambda m: np.zeros(m.shape, m.dtype), wanted)
    restore_args = jax.tree.map(lambda m: ocp.RestoreArgs(restore_type=np.ndarray), wanted)
    state = ckptr.restore(state_dir, args=ocp.args.PyTreeRestore(
        item=target, restore_args=restore_args, partial_restore=True))
  with ocp.Checkpointer(ocp.JsonCheckpointHandler()) as ckptr:
    model = ckptr.restore(os.path.join(step_dir, "model"))
  variables = {"params": state["params"], "batch_stats": state["batch_stats"]}
  return model, variables, int(state["step"])
