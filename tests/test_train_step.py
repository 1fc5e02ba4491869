import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lineart_jax import sharding
from lineart_jax.model import AutoEncoder
from lineart_jax.train_step import create_train_state, make_train_step

WIDTH = 0.0625


def _batches(n=3, global_batch=8, size=16):
  rng = np.random.default_rng(0)
  return [{"color": rng.integers(0, 256, (global_batch, size, size, 3), np.uint8),
           "line": rng.integers(0, 256, (global_batch, size, size, 1), np.uint8)}
          for _ in range(n)]


def _run(n_devices, optimizer, dtype=jnp.float32, batches=None, arch="seed", edges=0):
  mesh = sharding.make_mesh(jax.devices()[:n_devices])
  model = AutoEncoder(width=WIDTH, dtype=dtype, arch=arch, edges=edges)
  state = create_train_state(model, optimizer, 0, mesh)
  step = make_train_step(model, optimizer, mesh, 0.0)
  losses = []
  for batch in batches or _batches():
    state, metrics = step(state, sharding.global_batch(batch, mesh))
    losses.append(float(metrics["loss"]))
    assert np.isfinite(float(metrics["grad_norm"]))
  return losses, jax.device_get((state.params, state.batch_stats, state.step))


# With SGD, gradients summed over the 4 devices (or summed twice: pmean of the
# already-summed cotangents) move the 4-device params 4x (16x) as far as 1 device.
# Adam normalises each gradient by its own scale and would hide that, so SGD
# checks the gradients themselves.  Adam checks the optimizer state path, with an
# eps that keeps near-zero gradients' updates near zero: with the default 1e-8,
# a gradient of ~1e-8 (encoder3_flat2's kernel[0, 0, 3, 56] here: 2.05e-8 on one
# device, 1.12e-8 on four, against a median |g| of 0.017) is reduction-order noise
# that Adam turns into a full +-lr step, which is not what this test is about.
# The skip architecture with edge maps: its zero-initialised layers get their
# first gradients here, which must be averaged like every other.  The edge maps of
# these noise images are large, and so are the first gradients (|g| up to 5 for
# encoder1's kernel, whose entries are ~0.02): at lr 1e-3 each step changes it by
# 10 % or more and float rounding grows past rtol 1e-5 by step 3 (the first
# step's gradients agree to 2e-6), so this case takes 1e-4.
@pytest.mark.parametrize("optimizer,options", [
    (optax.sgd(1e-3), {}), (optax.adam(1e-3, eps=1e-3), {}),
    (optax.sgd(1e-4), {"arch": "skip", "edges": 2})], ids=["sgd", "adam", "sgd-skip-edges"])
def test_four_devices_equal_one_device(optimizer, options):
  assert jax.device_count() >= 4
  losses1, state1 = _run(1, optimizer, **options)
  losses4, state4 = _run(4, optimizer, **options)
  np.testing.assert_allclose(losses4, losses1, rtol=1e-5)
  assert losses1[0] != losses1[2]  # the steps really changed the parameters
  assert state4[2] == state1[2] == 3
  if options:  # the options' zero-initialised layers have moved
    assert all(np.abs(state1[0][n]["kernel"]).max() > 0 for n in ("encoder1_edges", "skip_full"))
  for a, b in zip(jax.tree.leaves(state4[:2]), jax.tree.leaves(state1[:2])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_bfloat16_compute_close_to_float32():
  batches = _batches(n=2)
  l32, s32 = _run(2, optax.adam(1e-3), batches=batches)
  l16, s16 = _run(2, optax.adam(1e-3), dtype=jnp.bfloat16, batches=batches)
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(s16[0]))
  np.testing.assert_allclose(l16, l32, rtol=0.03)


def test_batch_not_divisible_by_devices_is_clear_error():
  mesh = sharding.make_mesh(jax.devices()[:4])
  with pytest.raises(ValueError, match="multiple of the number of devices"):
    sharding.check_global_batch(6, mesh)
  model = AutoEncoder(width=WIDTH)
  opt = optax.sgd(1e-3)
  state = create_train_state(model, opt, 0, mesh)
  step = make_train_step(model, opt, mesh, 0.0)
  batch = {"color": jnp.zeros((6, 8, 8, 3), jnp.uint8), "line": jnp.zeros((6, 8, 8, 1), jnp.uint8)}
  with pytest.raises(ValueError, match="global batch size 6"):
    step(state, batch)


def test_lattice_weight_adds_the_grid_energy_to_each_images_loss():
  """``loss_params["lattice"]``: the step's loss is the paper's plus that multiple
  of ``losses.lattice_energy``, on the output the step computes."""
  from lineart_jax import losses
  mesh = sharding.make_mesh(jax.devices()[:1])
  model = AutoEncoder(width=WIDTH)
  optimizer = optax.sgd(0.0)
  batch = _batches(n=1, global_batch=2, size=64)[0]
  state = create_train_state(model, optimizer, 0, mesh)
  variables = jax.device_get({"params": state.params, "batch_stats": state.batch_stats})
  output, _ = model.apply(variables, batch["color"] / 255.0, train=True, mutable=["batch_stats"])
  line = batch["line"] / 255.0
  paper = np.mean(losses.per_image_loss(output, line))
  grid = np.mean(losses.lattice_energy(output, line))
  assert grid > 1e-3 * paper  # 5x it is far beyond the rtol below
  for lattice in (0.0, 5.0):
    step = make_train_step(model, optimizer, mesh, 0.0, {"lattice": lattice})
    _, metrics = step(create_train_state(model, optimizer, 0, mesh),
                      sharding.global_batch(batch, mesh))
    np.testing.assert_allclose(float(metrics["loss"]), paper + lattice * grid, rtol=1e-4)
