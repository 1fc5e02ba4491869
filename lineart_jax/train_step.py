"""Train state and the data-parallel training step.

The step is ``jax.jit`` over ``jax.shard_map`` on the 1-D ``data`` mesh, which is
what ``jax.pmap`` itself is built on: each device runs the whole step on its slice
of the global batch, BatchNorm averages its batch statistics over ``data`` (so
they are the statistics of the global batch) and the gradients are averaged over
``data`` before the optimizer update, which every device then applies identically.

Why ``pcast`` before differentiating: inside ``shard_map`` the parameters are
replicated ("invariant") values, and JAX sums the cotangents of an invariant
input over the axis automatically.  A ``pmean`` of those gradients would then be
N times too large.  Casting the parameters to "varying" first makes each device's
gradient its own, and the explicit ``pmean`` averages them.
"""

from __future__ import annotations

from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh, PartitionSpec as P

from lineart_jax import losses, sharding
from lineart_jax.model import (DECODER_NAMES, SKIP_NAMES, STYLE_SUFFIX, AutoEncoder,
                               init_variables)
from lineart_jax.sharding import DATA_AXIS


@flax.struct.dataclass
class TrainState:
  """Everything a resumed run needs besides the data iterator.

  ``rng`` is the run's base key, stored as raw uint32 key data of a threefry key
  so that checkpoints hold a plain array.  The seed network has no stochastic
  layers, so the step does not consume it; it is carried (and checkpointed) so
  that a layer that needs randomness derives it with ``fold_in(rng, step)``,
  resuming exactly.
  """
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any
  rng: jax.Array


def make_schedule(learning_rate: float, num_steps: int, schedule: str = "constant",
                  warmup_steps: int = 0, end_learning_rate: float = 0.0
                  ) -> float | optax.Schedule:
  """The learning rate: constant (the seed) or linear warm-up then cosine decay."""
  if schedule == "constant":
    return learning_rate
  if schedule == "warmup_cosine":
    return optax.warmup_cosine_decay_schedule(
        0.0, learning_rate, warmup_steps=warmup_steps, decay_steps=max(num_steps, warmup_steps + 1),
        end_value=end_learning_rate)
  raise ValueError(f"optimizer.schedule must be 'constant' or 'warmup_cosine', not {schedule!r}")


# config.train_only: which parameters a run trains ("" = all; trainable_mask).
TRAIN_ONLY = ("", "style", "skips", "decoder", "weights")
TRAINS_EVERY_PARAMETER = ("", "weights")  # of those, the ones that mask no parameter


def _check_train_only(train_only: str) -> None:
  if train_only not in TRAIN_ONLY:
    raise ValueError(f"train_only={train_only!r}: must be one of "
                     f"{', '.join(repr(t) for t in TRAIN_ONLY)}")


def trainable_mask(params: Any, train_only: str = "") -> Any:
  """A tree of bools like ``params``: True where the run trains the parameter.

  ``train_only=""`` trains all of them; ``"style"`` only the style layers
  (``<bn>_style``, ``model.style_dims > 0``); ``"skips"`` only the skip
  connections (``model.SKIPS``, ``model.arch="skip"``); ``"decoder"`` the layers
  after the 1/8 bottleneck with their BatchNorm and style layers, and the skips
  (``model.DECODER_NAMES``); ``"weights"`` all of them.  With any of these the
  BatchNorm statistics stay as loaded too (``make_train_step``).

  Why freeze: the style layers and the skips start at zero from loaded weights,
  so with the loaded network fixed the run starts at exactly the loaded model
  and learns only what those layers add.  The style layers are linear and
  bias-free, so the default style computes the loaded model however long the
  run; the skips change every style, and learn at a learning rate the whole
  network would not bear (their few weights from zero in a short stage).
  ``"decoder"`` keeps the encoder, so the features the drawings are read with
  stay the loaded model's; ``"weights"`` keeps only the statistics, which a
  short stage's batches of 12 would move towards its own data.
  """
  _check_train_only(train_only)
  flat = flax.traverse_util.flatten_dict(params)
  if train_only in TRAINS_EVERY_PARAMETER:
    return flax.traverse_util.unflatten_dict({k: True for k in flat})
  if train_only == "style":
    mask = {k: any(str(part).endswith(STYLE_SUFFIX) for part in k) for k in flat}
    missing = "style layers: set model.style_dims=6"
  elif train_only == "skips":
    mask = {k: any(part in SKIP_NAMES for part in k) for k in flat}
    missing = "skip connections: set model.arch=skip"
  else:
    mask = {k: any(part in DECODER_NAMES for part in k) for k in flat}
    missing = "decoder"
  if not any(mask.values()):
    raise ValueError(f"train_only={train_only!r}, but the model has no {missing}")
  return flax.traverse_util.unflatten_dict(mask)


def make_optimizer(learning_rate: float | optax.Schedule, b1: float = 0.9,
                   b2: float = 0.999, eps: float = 1e-8, train_only: str = ""
                   ) -> optax.GradientTransformation:
  """optax Adam, as the seed (lr 2e-5, eps 1e-8); with ``train_only``, Adam on
  those parameters only (no optimizer state for the frozen ones, whose updates
  are zero)."""
  _check_train_only(train_only)
  adam = optax.adam(learning_rate, b1=b1, b2=b2, eps=eps)
  if train_only in TRAINS_EVERY_PARAMETER:
    return adam
  labels = lambda params: jax.tree.map(lambda m: "train" if m else "frozen",
                                       trainable_mask(params, train_only))
  return optax.multi_transform({"train": adam, "frozen": optax.set_to_zero()}, labels)


def create_train_state(model: AutoEncoder, optimizer: optax.GradientTransformation,
                       seed: int, mesh: Mesh) -> TrainState:
  """A fresh state, replicated over the mesh (identical on every process)."""
  def init(seed):
    variables = init_variables(model, seed)
    params = variables["params"]
    run_key = jax.random.key_data(jax.random.fold_in(jax.random.key(seed), 1))
    return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                      batch_stats=variables["batch_stats"],
                      opt_state=optimizer.init(params), rng=run_key)

  return jax.jit(init, out_shardings=sharding.replicated(mesh))(jnp.int32(seed))


def to_unit_float(x: jax.Array) -> jax.Array:
  """uint8 images (what the loader ships, 4x less host->device traffic) -> [0, 1]."""
  if x.dtype == jnp.uint8:
    return x.astype(jnp.float32) / 255.0
  return x.astype(jnp.float32)


def all_finite(*trees) -> jax.Array:
  """Whether every element of every array in ``trees`` is finite (a bool scalar)."""
  leaves = jax.tree.leaves(trees)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def make_train_step(model: AutoEncoder, optimizer: optax.GradientTransformation,
                    mesh: Mesh, learning_rate: float | optax.Schedule,
                    loss_params: dict | None = None, train_only: str = ""
                    ) -> Callable[[TrainState, dict], tuple[TrainState, dict]]:
  """Returns ``step(state, batch) -> (state, metrics)``, compiled, state donated.

  ``batch`` holds ``color`` (B, H, W, 3) and ``line`` (B, H, W, 1), uint8 or float
  in [0, 1] (and ``style`` (B, style_dims) for a model with a style input), sharded along ``data`` (see ``sharding.global_batch``).  Metrics:
  ``loss`` (mean over the global batch of the per-image weighted squared error),
  ``grad_norm``, ``learning_rate`` and ``finite`` (1 when the loss, the gradients
  and the updated parameters are all finite, else 0: a finite loss can come with
  inf/NaN gradients, e.g. in bfloat16), replicated scalars.  ``loss_params``
  (alpha, beta, bins, radius, white) override the paper's loss-map constants;
  its ``lattice`` (default 0) adds that multiple of each image's
  ``losses.lattice_energy`` (the error's part locked to the pixel grid) to its loss.

  ``train_only`` (``trainable_mask``; the optimizer must be ``make_optimizer``'s
  for the same value): the other parameters' gradients are zero, so XLA drops
  their weight-gradient convolutions, and BatchNorm normalises with its stored
  statistics and does not update them (the frozen network computes exactly
  what was loaded).  ``grad_norm`` is then the trained parameters'.
  """
  if model.bn_axis_name != DATA_AXIS:
    model = model.clone(bn_axis_name=DATA_AXIS)
  lr_at = learning_rate if callable(learning_rate) else (lambda _: learning_rate)
  map_params = dict(loss_params or {})
  lattice = float(map_params.pop("lattice", 0.0))

  def per_device(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
    color, line = to_unit_float(batch["color"]), to_unit_float(batch["line"])
    weights = losses.loss_map(line, **map_params)

    def loss_fn(params):
      variables = {"params": params, "batch_stats": state.batch_stats}
      if train_only:  # the loaded network is fixed, its BatchNorm statistics too
        output = model.apply(variables, color, train=False, style=batch.get("style"))
        batch_stats = state.batch_stats
      else:
        output, updates = model.apply(variables, color, train=True,
                                      style=batch.get("style"), mutable=["batch_stats"])
        batch_stats = updates["batch_stats"]
      loss = losses.per_image_loss(output, line, weights)
      if lattice:
        loss = loss + lattice * losses.lattice_energy(output, line)
      return loss.mean(), batch_stats

    params = jax.lax.pcast(state.params, DATA_AXIS, to="varying")
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    if train_only:
      grads = jax.tree.map(lambda g, m: g if m else jnp.zeros_like(g), grads,
                           trainable_mask(grads, train_only))
    grads = jax.lax.pmean(grads, DATA_AXIS)
    loss = jax.lax.pmean(loss, DATA_AXIS)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    new_state = state.replace(step=state.step + 1,
                              params=optax.apply_updates(state.params, updates),
                              batch_stats=batch_stats, opt_state=opt_state)
    metrics = {"loss": loss, "grad_norm": optax.tree.norm(grads),
               "learning_rate": jnp.asarray(lr_at(state.step), jnp.float32),
               "finite": all_finite(loss, grads, new_state.params).astype(jnp.float32)}
    return new_state, metrics

  step = jax.jit(
      jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P(DATA_AXIS)),
                    out_specs=(P(), P())),
      donate_argnums=0)

  def checked_step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
    sharding.check_global_batch(batch["color"].shape[0], mesh)
    return step(state, batch)

  checked_step.jitted = step
  return checked_step
