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

Faults a long run meets, each reported in one line (orbax's own report is pages
of tracebacks from its writer threads):

* a save that fails (disk full, permissions, quota) raises ``CheckpointSaveError``
  naming the step, the folder and the OS error; its partial folder is removed and
  the previous checkpoint stays the latest;
* a checkpoint that cannot be read (truncated or damaged files) raises
  ``UnreadableCheckpointError``; ``restore_newest_readable`` then resumes from the
  newest readable one and sets the bad ones aside in ``WORKDIR/unreadable_checkpoints``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
from typing import Any

import grain
import jax
import numpy as np
import orbax.checkpoint as ocp

from lineart_jax.data.pipeline import TrainStream
from lineart_jax.model import ModelConfig


class IncompatibleCheckpointError(ValueError):
  """A readable checkpoint of another network or train state than the config builds."""


class UnreadableCheckpointError(ValueError):
  """A checkpoint whose files cannot be read back (truncated, damaged, missing)."""


class CheckpointSaveError(RuntimeError):
  """A checkpoint could not be written (disk full, permissions); the message says
  which step, where, why, and which checkpoint is kept."""


def error_summary(error: BaseException, limit: int = 500) -> str:
  """The first line of the most telling error in ``error``'s chain: an ``OSError``
  if there is one (it names the file and errno), else the innermost cause (orbax
  wraps tensorstore's message, which names the file, in generic exceptions)."""
  chain, e = [], error
  while e is not None and e not in chain:
    chain.append(e)
    e = e.__cause__ or e.__context__
  best = next((e for e in chain if isinstance(e, OSError)), chain[-1])
  lines = str(best).strip().splitlines()
  text = f"{type(best).__name__}: {lines[0] if lines else ''}"
  return text if len(text) <= limit else text[:limit - 3] + "..."


class _DropAsyncioShutdownErrors(logging.Filter):
  """asyncio logs each failed read task of an aborted orbax restore ("unhandled
  exception during asyncio.run() shutdown", a traceback each: 20,000 lines for
  one truncated file).  The error itself reaches the caller; these copies are noise."""

  def filter(self, record):
    return "unhandled exception during asyncio.run() shutdown" not in str(record.msg)


@contextlib.contextmanager
def _quiet_asyncio():
  f, logger = _DropAsyncioShutdownErrors(), logging.getLogger("asyncio")
  logger.addFilter(f)
  try:
    yield
  finally:
    logger.removeFilter(f)


def _state_metadata(state_dir: str):
  """The saved train state's tree of array metadata (shapes, dtypes), read by the
  handler (the checkpointer-level call warns about a file orbax never writes there)."""
  from etils import epath
  metadata = ocp.PyTreeCheckpointHandler().metadata(epath.Path(state_dir))
  return getattr(getattr(metadata, "item_metadata", metadata), "tree", metadata)


def _leaf_shapes(tree) -> list[tuple]:
  return sorted(tuple(getattr(leaf, "shape", ())) for leaf in jax.tree.leaves(tree))


class Checkpointer:

  def __init__(self, directory: str, model_config: ModelConfig, max_to_keep: int = 3,
               async_save: bool = True):
    if not isinstance(model_config, ModelConfig):  # else the first save, steps later, fails
      raise TypeError(f"Checkpointer takes a ModelConfig, not {type(model_config).__name__}")
    self.directory = os.path.abspath(directory)
    self.model_config = model_config  # written in full (to_dict), checked on restore
    self._in_flight: int | None = None  # the step of an asynchronous save not yet checked
    self.failed = False  # a save failed: the error was raised once, later waits are quiet
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, enable_async_checkpointing=async_save,
            create=True, cleanup_tmp_directories=True),
        item_names=("state", "data", "model", "run"))

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def step_dir(self, step: int) -> str:
    return os.path.join(self.directory, str(step))

  def save(self, step: int, state: Any, stream: TrainStream | None) -> None:
    """Starts writing checkpoint ``step`` (the write goes on in the background).

    Raises ``CheckpointSaveError`` if this save, or the previous one still being
    written, fails.
    """
    self.wait()  # orbax waits for the previous save here anyway: attribute its errors
    items = {"state": ocp.args.StandardSave(state),
             "model": ocp.args.JsonSave(self.model_config.to_dict()),
             "run": ocp.args.JsonSave(stream.position() if stream else {})}
    if stream is not None:
      items["data"] = grain.checkpoint.CheckpointSave(stream.iterator)
    self._in_flight = step
    try:
      self.manager.save(step, args=ocp.args.Composite(**items), force=True)
    except Exception as e:
      self._save_failed(e)

  def _save_failed(self, error: Exception):
    step, self._in_flight, self.failed = self._in_flight, None, True
    if jax.process_index() == 0:  # no partial folder to confuse the next resume
      for partial in glob.glob(os.path.join(self.directory, "*.orbax-checkpoint-tmp*")):
        shutil.rmtree(partial, ignore_errors=True)
    with contextlib.suppress(Exception):
      self.manager.reload()
    kept = self.latest_step()
    kept = (f"the last good checkpoint, step {kept} ({self.step_dir(kept)}), is kept" if
            kept is not None else "no earlier checkpoint exists")
    raise CheckpointSaveError(
        f"saving checkpoint step {step} to {self.step_dir(step)} failed: "
        f"{error_summary(error)}; {kept}. Free space (or fix permissions) and run the same "
        "command again to resume.") from error

  def restore_newest_readable(self, state: Any, stream: TrainStream | None,
                              strict: bool = False) -> tuple[Any, bool]:
    """``restore`` from the newest checkpoint that reads back: (state, whether
    Grain's state was used).

    A newer checkpoint that cannot be read (truncated or damaged files: a crash
    of the storage, a copy cut short) is reported in one warning line and set
    aside in ``WORKDIR/unreadable_checkpoints`` once an older one has restored,
    so the run goes on (and later saves of that step are possible).  With
    ``strict`` it is an error instead.  A checkpoint of another network or train
    state (``IncompatibleCheckpointError``) is always an error.
    """
    unreadable = []
    for step in sorted(self.manager.all_steps(), reverse=True):
      try:
        restored, data_restored = self.restore(state, stream, step)
      except UnreadableCheckpointError as e:
        if strict:
          raise UnreadableCheckpointError(
              f"{e} (resume_strict is set; unset it to resume from an older checkpoint)") from e
        logging.warning("%s; trying the previous checkpoint", e)
        unreadable.append(step)
        continue
      for bad in unreadable:
        self._set_aside(bad)
      return restored, data_restored
    raise UnreadableCheckpointError(
        f"no checkpoint in {self.directory} can be read (steps {unreadable}); move the folder "
        "away to start over")

  def _set_aside(self, step: int) -> None:
    aside = os.path.join(os.path.dirname(self.directory), "unreadable_checkpoints")
    if jax.process_index() == 0:
      os.makedirs(aside, exist_ok=True)
      target = os.path.join(aside, str(step))
      n = 1
      while os.path.exists(target):
        target, n = os.path.join(aside, f"{step}.{n}"), n + 1
      shutil.move(self.step_dir(step), target)
      logging.warning("checkpoint step %d moved to %s", step, target)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      multihost_utils.sync_global_devices(f"lineart_jax set aside checkpoint {step}")
    self.manager.reload()

  def reached_preemption(self, step: int) -> bool:
    """Orbax's multi-process preemption notice (needs jax.distributed)."""
    return self.manager.reached_preemption(step)

  def restore(self, state: Any, stream: TrainStream | None,
              step: int | None = None) -> tuple[Any, bool]:
    """(state at ``step`` (default latest), whether Grain's saved state was used).

    ``stream`` is (re)started where the checkpoint's data position says: at its
    recorded stream start with Grain's state restored when the formats match,
    else at the restored step.  Raises ``IncompatibleCheckpointError`` for a
    checkpoint of another model or train state, ``UnreadableCheckpointError``
    (one line: step, folder, the error) when its files do not read back.
    """
    step = self.latest_step() if step is None else step
    path = self.step_dir(step)

    def unreadable(e):
      return UnreadableCheckpointError(
          f"checkpoint step {step} ({path}) cannot be read: {error_summary(e)}")

    try:
      with _quiet_asyncio():
        saved = self.manager.restore(step, args=ocp.args.Composite(
            model=ocp.args.JsonRestore(), run=ocp.args.JsonRestore()))
    except Exception as e:
      raise unreadable(e) from e
    try:
      saved_model = ModelConfig.from_dict(saved["model"])  # older checkpoints: width only
    except ValueError as e:
      raise IncompatibleCheckpointError(f"checkpoint {path}: {e}") from e
    if saved_model != self.model_config:
      have, want = saved_model.to_dict(), self.model_config.to_dict()
      diff = {k: (have[k], want[k]) for k in sorted(have) if have[k] != want[k]}
      raise IncompatibleCheckpointError(
          f"checkpoint {path} was written for model {have}, but the config asks for "
          f"{want} (differences, checkpoint vs config: {diff}). Use another "
          "--workdir or the checkpoint's model settings.")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    try:
      metadata = _state_metadata(os.path.join(path, "state"))
    except Exception as e:
      raise unreadable(e) from e
    if _leaf_shapes(metadata) != _leaf_shapes(abstract):
      raise IncompatibleCheckpointError(
          f"checkpoint {path} does not match the train state this config builds (model "
          f"{self.model_config.to_dict()}): its arrays differ in number or shape (another "
          "optimizer?). Use another --workdir.")
    items = {"state": ocp.args.StandardRestore(abstract)}
    restore_data = (stream is not None and stream.can_restore(saved["run"])
                    and os.path.isdir(os.path.join(path, "data")))
    if restore_data:
      stream.start(saved["run"]["start_batch"])
      items["data"] = grain.checkpoint.CheckpointRestore(stream.iterator)
    try:
      with _quiet_asyncio():
        restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    except Exception as e:
      raise unreadable(e) from e
    if stream is not None and not restore_data:
      stream.start(int(restored["state"].step))  # the stream is a function of the step
    return restored["state"], restore_data

  def wait(self) -> None:
    """Waits for the save in flight; raises ``CheckpointSaveError`` if it failed
    (once: after a failure, waits and ``close`` are quiet)."""
    if self.failed:
      return
    try:
      self.manager.wait_until_finished()
    except Exception as e:
      self._save_failed(e)
    self._in_flight = None

  def close(self) -> None:
    try:
      self.manager.close()
    except Exception:
      if not self.failed:
        raise


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


def load_variables(path: str) -> tuple[ModelConfig, dict, int]:
  """(model config, {'params', 'batch_stats'} as host numpy, step) for inference.

  Reads only the parameters, BatchNorm statistics and step, never the Adam
  state, and restores them as numpy arrays against the shapes in the
  checkpoint's own metadata: a checkpoint written by any number of devices and
  processes loads in a process with any devices (orbax's default restore wants
  the saved topology).  ``path``: see ``find_step_dir``.
  """
  step_dir = find_step_dir(path)
  try:
    with _quiet_asyncio():
      return _load_variables(step_dir)
  except IncompatibleCheckpointError:
    raise
  except Exception as e:
    raise UnreadableCheckpointError(f"checkpoint {step_dir} cannot be read: "
                                    f"{error_summary(e)}") from e


def _load_variables(step_dir: str) -> tuple[ModelConfig, dict, int]:
  state_dir = os.path.join(step_dir, "state")
  tree = _state_metadata(state_dir)
  with ocp.PyTreeCheckpointer() as ckptr:
    missing = [k for k in INFERENCE_ITEMS if k not in tree]
    if missing:
      raise IncompatibleCheckpointError(f"{state_dir}: no {missing} in this checkpoint")
    wanted = {k: tree[k] for k in INFERENCE_ITEMS}
    target = jax.tree.map(lambda m: np.zeros(m.shape, m.dtype), wanted)
    restore_args = jax.tree.map(lambda m: ocp.RestoreArgs(restore_type=np.ndarray), wanted)
    state = ckptr.restore(state_dir, args=ocp.args.PyTreeRestore(
        item=target, restore_args=restore_args, partial_restore=True))
  with ocp.Checkpointer(ocp.JsonCheckpointHandler()) as ckptr:
    saved_model = ckptr.restore(os.path.join(step_dir, "model"))
  try:
    model = ModelConfig.from_dict(saved_model)  # older checkpoints: width only
  except ValueError as e:
    raise IncompatibleCheckpointError(f"{step_dir}: {e}") from e
  variables = {"params": state["params"], "batch_stats": state["batch_stats"]}
  return model, variables, int(state["step"])
