"""Orbax checkpoints of the train state together with the Grain iterator state.

One ``CheckpointManager`` in ``WORKDIR/checkpoints``; each step folder holds

* ``state``: the ``TrainState`` (params, batch_stats, optimizer, step, RNG);
* ``data``: the Grain iterator position (``grain.checkpoint``), so a resumed run
  continues with exactly the next batch;
* ``model``: the model config (JSON), to refuse a checkpoint of another network
  with a message naming both configs;
* ``run``: the process count and loader worker count (JSON): the Grain positions
  are per process and their format depends on the workers, so they are restored
  only when both match (otherwise the data stream is re-positioned from the
  step, see ``trainer``).

Saves are asynchronous (the copy to host blocks, the write does not) and atomic:
Orbax writes to a temporary folder and renames it when complete, so a process
killed mid-write leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

import os
from typing import Any

import grain
import jax
import orbax.checkpoint as ocp


class IncompatibleCheckpointError(ValueError):
  pass


class Checkpointer:

  def __init__(self, directory: str, model_config: dict, max_to_keep: int = 3,
               async_save: bool = True, data_workers: int = 0):
    self.directory = os.path.abspath(directory)
    self.model_config = dict(model_config)
    self.data_workers = data_workers
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, enable_async_checkpointing=async_save,
            create=True, cleanup_tmp_directories=True),
        item_names=("state", "data", "model", "run"))

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def run_info(self) -> dict:
    """What the saved Grain positions depend on (their format and meaning)."""
    return {"process_count": jax.process_count(), "data_workers": self.data_workers}

  def save(self, step: int, state: Any, data_iter: grain.DatasetIterator | None) -> None:
    items = {"state": ocp.args.StandardSave(state),
             "model": ocp.args.JsonSave(self.model_config),
             "run": ocp.args.JsonSave(self.run_info())}
    if data_iter is not None:
      items["data"] = grain.checkpoint.CheckpointSave(data_iter)
    self.manager.save(step, args=ocp.args.Composite(**items), force=True)

  def reached_preemption(self, step: int) -> bool:
    """Orbax's multi-process preemption notice (needs jax.distributed)."""
    return self.manager.reached_preemption(step)

  def restore(self, state: Any, data_iter: grain.DatasetIterator | None,
              step: int | None = None) -> tuple[Any, bool]:
    """(state at ``step`` (default latest), whether ``data_iter`` was restored).

    The iterator is restored in place when the checkpoint has its state and was
    written with the same number of processes and loader workers.
    """
    step = self.latest_step() if step is None else step
    path = os.path.join(self.directory, str(step))
    saved = self.manager.restore(step, args=ocp.args.Composite(
        model=ocp.args.JsonRestore(), run=ocp.args.JsonRestore()))
    saved_model = saved["model"]
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
    restore_data = (data_iter is not None and saved["run"] == self.run_info()
                    and os.path.isdir(os.path.join(path, "data")))
    if restore_data:
      items["data"] = grain.checkpoint.CheckpointRestore(data_iter)
    try:
      restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    except (ValueError, KeyError, TypeError) as e:
      raise IncompatibleCheckpointError(
          f"checkpoint {path} does not match the train state this config builds "
          f"(model {self.model_config}): {e}") from e
    return restored["state"], restore_data

  def wait(self) -> None:
    self.manager.wait_until_finished()

  def close(self) -> None:
    self.manager.close()


def load_variables(path: str) -> tuple[dict, dict, int]:
  """(model config, {'params', 'batch_stats'} as numpy, step) for inference.

  ``path`` is a workdir (its latest checkpoint is used), its ``checkpoints``
  folder, or one step folder (``.../checkpoints/1500``).
  """
  path = os.path.abspath(path)
  candidates = [path, os.path.join(path, "checkpoints")]
  for folder in candidates:
    if os.path.isdir(os.path.join(folder, "state")):
      step_dir = folder
      break
    steps = [int(d) for d in os.listdir(folder) if d.isdigit()] if os.path.isdir(folder) else []
    if steps:
      step_dir = os.path.join(folder, str(max(steps)))
      break
  else:
    raise FileNotFoundError(f"{path}: no checkpoint found (expected a workdir, its "
                            "checkpoints/ folder or a checkpoint step folder)")
  with ocp.StandardCheckpointer() as ckptr:
    state = ckptr.restore(os.path.join(step_dir, "state"))
  with ocp.Checkpointer(ocp.JsonCheckpointHandler()) as ckptr:
    model = ckptr.restore(os.path.join(step_dir, "model"))
  variables = {"params": state["params"], "batch_stats": state["batch_stats"]}
  return model, variables, int(state["step"])
