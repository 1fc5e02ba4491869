"""The training loop: data, step, checkpoints, preemption, metrics, evaluation.

``train_and_evaluate(config, workdir)`` runs (or resumes) a run in ``workdir``:

* resumes from the latest checkpoint there, with the data iterator where it was
  (from the newest readable one if the latest is damaged, unless ``resume_strict``);
* reads each step's metrics one step late, so the host never waits on the device
  just to print (the next step is already queued when it reads);
* saves every ``checkpoint_every`` steps and at the end, asynchronously;
* on SIGTERM/SIGINT saves the current step and returns cleanly (a second SIGINT
  interrupts at once); likewise after ``max_minutes`` of training, if set;
* stops with ``NonFiniteLossError`` on a NaN/inf loss, before any checkpoint of
  the bad state is written, so the last good checkpoint stays the latest;
* refuses a workdir another live trainer holds (``WorkdirLockedError``);
* ends with ``CheckpointSaveError`` (one line: step, folder, OS error, the
  checkpoint kept) when a save fails, e.g. on a full disk.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import signal
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from lineart_jax import evaluation, sharding, workdir_lock
from lineart_jax.checkpointing import (CheckpointSaveError, Checkpointer,
                                       IncompatibleCheckpointError, UnreadableCheckpointError)
from lineart_jax.data import pipeline
from lineart_jax.data.imageio import write_png
from lineart_jax.data.synthetic import SyntheticSource
from lineart_jax.metrics import Chrono, MetricWriter, format_eta
from lineart_jax.model import (STYLE_SUFFIX, AutoEncoder, ModelConfig, extend_variables,
                               from_config, predict_lines)
from lineart_jax.train_step import (create_train_state, make_optimizer, make_schedule,
                                    make_train_step)
from lineart_jax.workdir_lock import WorkdirLockedError

# Offset of the synthetic validation seed from the run's seed: validation
# illustrations are never training ones.
VALIDATION_SEED_OFFSET = 1_000_003


class NonFiniteLossError(RuntimeError):
  """A step's loss, gradients or updated parameters were not finite."""


class StopSignal:
  """Turns SIGTERM/SIGINT into a flag the loop checks; restores handlers on exit."""

  def __init__(self):
    self.received: int | None = None
    self._previous = {}

  def __enter__(self):
    # Under jax.distributed, SIGTERM belongs to JAX's preemption notifier, which
    # orbax's reached_preemption() reads on every process at the same step.
    signals = (signal.SIGINT,) if jax.process_count() > 1 else (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
      try:
        self._previous[sig] = signal.signal(sig, self._handle)
      except ValueError:  # not the main thread: no signal handling
        pass
    return self

  def _handle(self, signum, frame):
    if self.received == signal.SIGINT and signum == signal.SIGINT:
      raise KeyboardInterrupt  # second Ctrl-C: stop now
    self.received = signum
    logging.warning("received %s: saving a checkpoint and stopping",
                    signal.Signals(signum).name)

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def model_config(config: ml_collections.ConfigDict) -> ModelConfig:
  """The network a training config asks for: what a checkpoint must match (its
  ``config.model`` less dtype and bn_momentum, which may change between runs).
  The one place a training config becomes a ``ModelConfig``; a config that
  predates a field gets its default."""
  return ModelConfig.from_dict(config.model.to_dict())


def build_model(config, model_cfg: ModelConfig | None = None) -> AutoEncoder:
  """The network of ``config`` (``model_cfg``: its ``model_config``, if made already)."""
  model_cfg = model_config(config) if model_cfg is None else model_cfg
  return from_config(model_cfg, dtype=jnp.dtype(config.model.dtype),
                     bn_momentum=config.model.bn_momentum)


def init_from(state, config, optimizer, mesh):
  """``state`` with the parameters and BatchNorm statistics of ``config.init_from``
  (the shipped model or a run), for fine-tuning: a fresh optimizer and step 0.

  Weights of the same width but without this config's edge maps or skips load
  too: those layers keep their zero initialisation, so the fine-tune starts from
  exactly the loaded model (``model.extend_variables``).  Weights with a style
  input load into a config without one minus their style layers: what remains
  is their default style exactly (the style vector is an offset from it); with
  ``init_style_layers="zero"`` a style config leaves them out too, so they start
  at zero as on seed weights.
  """
  from lineart_jax.pretrained import load_weights
  saved_model, variables, what = load_weights(config.init_from)
  wanted = model_config(config)
  extendable = (saved_model.width == wanted.width
                and saved_model.arch in ("seed", wanted.arch)
                and saved_model.edges in (0, wanted.edges)
                and (saved_model.style_dims in (0, wanted.style_dims)
                     or not wanted.style_dims
                     or saved_model.style_dims < wanted.style_dims))
  if not extendable:
    hint = (f"--config.model.width={saved_model.width}"
            if saved_model.width != wanted.width else
            f"--config.model.arch={saved_model.arch} --config.model.edges={saved_model.edges}"
            f" --config.model.style_dims={saved_model.style_dims}")
    raise IncompatibleCheckpointError(
        f"init_from={config.init_from!r}: {what} is model {saved_model.to_dict()}, but the "
        f"config asks for {wanted.to_dict()}; set {hint} (edge maps, skips and a style "
        "input may be added to seed weights: their layers start at zero)")
  # The state is replicated: this process's first shard is the whole array (also
  # under jax.distributed, where np.asarray of a global array would fail).
  fresh = jax.tree.map(lambda a: np.asarray(a.addressable_data(0)),
                       {"params": state.params, "batch_stats": state.batch_stats})
  variables = jax.tree.map(np.asarray, variables)
  if config.init_style_layers not in ("load", "zero"):
    raise ValueError(f"init_style_layers={config.init_style_layers!r}: 'load' or 'zero'")
  other_input = saved_model.style_input != wanted.style_input  # other style layers
  zero_style = config.init_style_layers == "zero" or other_input
  if saved_model.style_dims and (zero_style or not wanted.style_dims):
    variables = {c: {k: v for k, v in tree.items() if not k.endswith(STYLE_SUFFIX)}
                 for c, tree in variables.items()}
    why = ("no model.style_dims" if not wanted.style_dims else
           f"style_input {saved_model.style_input}, not {wanted.style_input}"
           if other_input else "init_style_layers='zero'")
    logging.info("init_from %s: its style layers are left out (%s): the run starts from its "
                 "default style", what, why)
  try:
    merged, new_layers = extend_variables(fresh, variables)
  except ValueError as e:
    raise IncompatibleCheckpointError(f"init_from={config.init_from!r}: {e}") from e
  params = jax.tree.map(jnp.asarray, merged["params"])
  new = state.replace(params=params, batch_stats=jax.tree.map(jnp.asarray,
                                                              merged["batch_stats"]),
                      opt_state=optimizer.init(params))
  logging.info("initialised from %s%s", what, f"; zero-initialised new layers: "
               f"{', '.join(new_layers)}" if new_layers else "")
  return jax.device_put(new, sharding.replicated(mesh))


def data_sources(config):
  """(training source, training indices or None, validation pairs)."""
  d, style_dims = config.data, model_config(config).style_dims
  source = pipeline.open_source(d.root, config.seed, d.synthetic_size, styles=bool(style_dims))
  if isinstance(source, SyntheticSource):
    val_source = SyntheticSource(config.seed + VALIDATION_SEED_OFFSET, d.synthetic_size,
                                 styles=bool(style_dims))
    val = [val_source[i] for i in range(d.val_count)]
    return source, None, [pipeline.center_crop(p, config.eval_size, style_dims) for p in val]
  train_idx, val_idx = pipeline.split_indices(len(source), d.val_count, config.seed)
  val = [pipeline.center_crop(source[int(i)], config.eval_size, style_dims) for i in val_idx]
  return source, train_idx, val


def make_predict(model: AutoEncoder, mesh):
  """(uint8 RGB batch, style batch or None) -> (B, H, W) float predictions, with
  replicated variables."""
  apply = jax.jit(functools.partial(predict_lines, model),
                  out_shardings=sharding.replicated(mesh))

  def predict(variables, colors: np.ndarray, style: np.ndarray | None = None) -> np.ndarray:
    x = sharding.replicate(colors, mesh)
    s = None if style is None else sharding.replicate(style, mesh)
    return np.asarray(jax.device_get(apply(variables, x, s)))
  return predict


def run_evaluation(predict, state, val_pairs, workdir, step, writer, is_main) -> dict:
  """Scores on the validation pairs, each in its own style (a style model's)."""
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  scores, preds = evaluation.compare_with_opencv(
      lambda c, s=None: predict(variables, c, s), val_pairs)
  logging.info("evaluation at step %d on %d pairs:\n%s", step, len(val_pairs),
               evaluation.format_comparison(scores))
  if is_main:
    grid = evaluation.panel(val_pairs, preds)  # color | prediction | target | loss map
    write_png(os.path.join(workdir, "eval", f"step_{step:07d}.png"), grid)
    writer.image(step, "eval/panels", grid)
    writer.scalars(step, {f"eval/{m}_{k}": v for m, s in scores.items()
                          for k, v in s.items() if k != "threshold"})
  return scores


@contextlib.contextmanager
def one_writer(workdir: str):
  """Process 0 holds ``workdir``'s lock for the block; every process raises
  ``WorkdirLockedError`` (process 0's names the holder) when another trainer has it."""
  with contextlib.ExitStack() as stack:
    error = None
    if jax.process_index() == 0:
      try:
        stack.enter_context(workdir_lock.hold(workdir))
      except WorkdirLockedError as e:
        error = e
    if jax.process_count() > 1:  # all processes stop, not only process 0
      taken = bool(np.max(multihost_utils.process_allgather(np.int32(error is not None))))
      if taken and error is None:
        error = WorkdirLockedError(f"workdir {workdir} is in use by another trainer "
                                   "(process 0 names it)")
    if error is not None:
      raise error
    yield


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (resuming if ``workdir`` has checkpoints); returns the final metrics.

  Refuses, with ``WorkdirLockedError``, a workdir another live trainer holds
  (``workdir_lock``): before it writes anything there.
  """
  workdir = os.path.abspath(workdir)
  os.makedirs(workdir, exist_ok=True)
  with one_writer(workdir):
    return _train_and_evaluate(config, workdir)


def _train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  is_main = jax.process_index() == 0
  if is_main:
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json_best_effort(indent=2))

  mesh = sharding.make_mesh()
  sharding.check_global_batch(config.global_batch, mesh)
  model_cfg = model_config(config)
  model = build_model(config, model_cfg)
  o = config.optimizer
  lr = make_schedule(o.learning_rate, config.num_steps, o.schedule, o.warmup_steps,
                     o.end_learning_rate)
  optimizer = make_optimizer(lr, o.b1, o.b2, o.eps, config.train_only)
  state = create_train_state(model, optimizer, config.seed, mesh)

  source, train_idx, val_pairs = data_sources(config)
  augment = pipeline.Augment(crop=config.data.crop, flips=config.data.flips,
                             hue=config.data.hue, min_scale=config.data.min_scale,
                             max_scale=config.data.max_scale,
                             style_dims=model_cfg.style_dims)

  train_iter = pipeline.TrainStream(
      lambda start_batch: pipeline.make_dataset(
          source, global_batch=config.global_batch, seed=config.seed, augment=augment,
          workers=config.data.workers, process_index=jax.process_index(),
          process_count=jax.process_count(), indices=train_idx, start_batch=start_batch),
      workers=config.data.workers, process_count=jax.process_count())
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), model_cfg,
                      max_to_keep=config.keep_checkpoints)
  if ckpt.latest_step() is not None:
    state, data_restored = ckpt.restore_newest_readable(state, train_iter,
                                                        strict=config.resume_strict)
    logging.info("resumed from %s at step %d (data position %s)", ckpt.directory,
                 int(jax.device_get(state.step)),
                 "restored from Grain's state" if data_restored else "recomputed from the step")
  else:
    train_iter.start(0)
    if config.init_from:
      state = init_from(state, config, optimizer, mesh)
  start_step = int(jax.device_get(state.step))
  logging.info("%d devices (%s), %d processes; global batch %d; model %s, %s; "
               "data: %r", jax.device_count(), jax.devices()[0].platform,
               jax.process_count(), config.global_batch, model_cfg.describe(),
               config.model.dtype, source)

  train_step = make_train_step(model, optimizer, mesh, lr, dict(config.loss),
                               config.train_only)
  predict = make_predict(model, mesh)
  writer = MetricWriter(workdir, active=is_main, start_step=start_step)
  chrono = Chrono(config.num_steps, config.global_batch, start_step)
  sums, count, last = {}, 0, {}
  data_wait, data_steps = 0.0, 0  # seconds spent in next() on the loader, steps
  pending = None  # (step, device metrics) of the step dispatched last

  def read(pending_metrics):
    """Host-reads one step's metrics; raises on a non-finite loss."""
    nonlocal count
    step, metrics = pending_metrics
    values = {k: float(v) for k, v in jax.device_get(metrics).items()}
    finite = values.pop("finite")
    if not (finite and math.isfinite(values["loss"])):
      raise NonFiniteLossError(
          f"non-finite training state at step {step} (loss {values['loss']}, gradient norm "
          f"{values['grad_norm']}; the loss, gradients and updated parameters are checked); "
          f"stopping. The latest checkpoint ({ckpt.latest_step()}) in {ckpt.directory} "
          "holds the last good state.")
    for k, v in values.items():
      sums[k] = sums.get(k, 0.0) + v
    count += 1

  def log(step):
    nonlocal sums, count, last, data_wait, data_steps
    if not count:
      return
    last = {k: v / count for k, v in sums.items()}
    rates = chrono.tick(step)  # {} on the first log: the clock starts after compiling
    if rates and data_steps:
      rates["data_wait_ms"] = 1000.0 * data_wait / data_steps  # per step, waiting on data
    data_wait, data_steps = 0.0, 0
    writer.scalars(step, {**last, **rates})
    line = f"step {step:>7d}/{config.num_steps}  loss {last['loss']:.4f}"
    if rates:
      line += (f"  {rates['img_per_s']:.2f} img/s  {rates['steps_per_s']:.3f} steps/s"
               f"  ETA {format_eta(rates['eta_s'])}")
    logging.info(line)
    sums, count = {}, 0

  def should_stop(step) -> bool:
    """Whether every process stops after ``step`` (they must agree on the step)."""
    if ckpt.reached_preemption(step):  # SIGTERM under jax.distributed (all agree)
      return True
    local = stop.received is not None or out_of_time()
    if jax.process_count() == 1:
      return local
    if step % config.log_every:
      return False  # agree only at log steps: a host collective, not every step
    return bool(np.max(multihost_utils.process_allgather(np.int32(local))))

  started = time.monotonic()

  def out_of_time() -> bool:
    return bool(config.max_minutes) and time.monotonic() - started > 60 * config.max_minutes

  step = start_step
  logging.info("training from step %d to %d%s; the first step compiles", step, config.num_steps,
               f" or for {config.max_minutes:g} minutes" if config.max_minutes else "")
  with StopSignal() as stop:
    try:
      while step < config.num_steps:
        waited = time.perf_counter()
        batch = sharding.global_batch(next(train_iter), mesh)
        data_wait += time.perf_counter() - waited  # > 0: the loader does not keep up
        data_steps += 1
        state, metrics = train_step(state, batch)
        step += 1
        if pending is not None:
          read(pending)  # the previous step: done, or nearly, while this one queues
        pending = (step, metrics)
        preempted = should_stop(step)
        first = step == start_step + 1  # shows the run is alive after compiling
        if step % config.log_every == 0 or step == config.num_steps or preempted or first:
          read(pending)
          pending = None
          log(step)
        if step % config.checkpoint_every == 0 or step == config.num_steps or preempted:
          if pending is not None:
            read(pending)  # never checkpoint a state whose loss was not checked
            pending = None
          with chrono.paused():
            ckpt.save(step, state, train_iter)
        if preempted:
          if stop.received is None and out_of_time():
            last["stopped"] = "time_limit"
            logging.info("time limit of %g minutes reached at step %d; checkpoint saved in %s",
                         config.max_minutes, step, ckpt.directory)
          else:
            last["stopped"] = "signal"
            logging.warning("stopped at step %d; checkpoint saved in %s", step, ckpt.directory)
          break
        if (config.eval_every and val_pairs and step % config.eval_every == 0
            and step < config.num_steps):
          with chrono.paused():
            run_evaluation(predict, state, val_pairs, workdir, step, writer, is_main)
      else:
        if val_pairs:
          last.update({f"eval_{m}": s for m, s in run_evaluation(
              predict, state, val_pairs, workdir, step, writer, is_main).items()})
    finally:
      ckpt.wait()
      ckpt.close()
      writer.close()
      train_iter.close()
  last["step"] = step
  return last
