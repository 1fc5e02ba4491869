import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lineart_jax import ops
from lineart_jax.model import AutoEncoder, init_variables

# The seed's table (DIGEST.md), written out independently of lineart_jax.model:
# name, op, in, out, kernel, stride.
SEED = [
    ("encoder1", "conv", 3, 48, 5), ("encoder1_flat1", "conv", 48, 128, 3),
    ("encoder1_flat2", "conv", 128, 128, 3), ("encoder2", "conv", 128, 256, 5),
    ("encoder2_flat1", "conv", 256, 256, 3), ("encoder2_flat2", "conv", 256, 256, 3),
    ("encoder3", "conv", 256, 256, 5), ("encoder3_flat1", "conv", 256, 512, 3),
    ("encoder3_flat2", "conv", 512, 1024, 3), ("encoder3_flat3", "conv", 1024, 512, 3),
    ("encoder3_flat4", "conv", 512, 256, 3), ("decoder1", "deconv", 256, 256, 4),
    ("decoder1_flat1", "conv", 256, 128, 3), ("decoder1_flat2", "conv", 128, 128, 3),
    ("decoder2", "deconv", 128, 128, 4), ("decoder2_flat1", "conv", 128, 128, 3),
    ("decoder2_flat2", "conv", 128, 48, 3), ("decoder3", "deconv", 48, 48, 4),
    ("decoder3_flat1", "deconv", 48, 24, 3), ("decoder3_flat2", "deconv", 24, 1, 3),
]
BN = ["bnc1", "bnc1_flat1", "bnc1_flat2", "bnc2", "bnc2_flat1", "bnc2_flat2", "bnc3",
      "bnc3_flat1", "bnc3_flat2", "bnc3_flat3", "bnc3_flat4", "bnd1", "bnd1_flat1",
      "bnd1_flat2", "bnd2", "bnd2_flat1", "bnd2_flat2", "bnd3", "bnd3_flat1"]


def _abstract_variables(model, h=128, w=128):
  x = jax.ShapeDtypeStruct((1, h, w, 3), jnp.float32)
  return jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(x.shape), train=False))


def test_full_model_matches_seed_table():
  v = _abstract_variables(AutoEncoder())
  params, stats = v["params"], v["batch_stats"]
  assert set(params) == {n for n, *_ in SEED} | set(BN)
  for name, op, cin, cout, k in SEED:
    want = (k, k, cin, cout) if op == "conv" else (k, k, cout, cin)  # TF deconv layout
    assert params[name]["kernel"].shape == want, name
    assert params[name]["kernel"].dtype == jnp.float32
  # A conv followed by BatchNorm has no bias; the last layer has one.
  assert [n for n, *_ in SEED if "bias" in params[n]] == ["decoder3_flat2"]
  for (name, _, _, cout, _), bn in zip(SEED[:-1], BN):
    assert params[bn]["scale"].shape == (cout,), bn
    assert stats[bn]["mean"].shape == stats[bn]["var"].shape == (cout,), bn
  n_params = sum(x.size for x in jax.tree.leaves(params))
  # The seed's 17.66 M includes one bias per BN'd conv (sum of their channels).
  seed_biases = sum(cout for _, _, _, cout, _ in SEED[:-1])
  assert abs(n_params + seed_biases - 17.66e6) < 0.01e6


@pytest.mark.parametrize("h,w", [(128, 128), (97, 203), (1, 1)])
def test_output_shape_equals_input_shape(h, w):
  model = AutoEncoder()
  variables = _abstract_variables(model)
  out = jax.eval_shape(lambda v, x: model.apply(v, x, train=False), variables,
                       jax.ShapeDtypeStruct((2, h, w, 3), jnp.float32))
  assert out.shape == (2, h, w, 1) and out.dtype == jnp.float32


def test_small_model_runs_any_size_and_outputs_probabilities():
  model = AutoEncoder(width=0.05)
  variables = jax.jit(lambda seed: init_variables(model, seed))(0)
  apply = jax.jit(lambda v, x: model.apply(v, x, train=False))
  for h, w in [(13, 21), (1, 1), (8, 8)]:
    x = jax.random.uniform(jax.random.key(1), (2, h, w, 3))
    y = apply(variables, x)
    assert y.shape == (2, h, w, 1)
    assert np.all((np.asarray(y) > 0) & (np.asarray(y) < 1))
  with pytest.raises(ValueError, match="RGB"):
    model.apply(variables, jnp.zeros((1, 8, 8, 1)), train=False)


@pytest.mark.parametrize("k,stride,h,w", [(4, 2, 5, 7), (4, 2, 1, 1), (3, 1, 6, 5)])
def test_conv_transpose_equals_tensorflow_same(k, stride, h, w):
  keys = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(keys[0], (2, h, w, 3))
  kernel = jax.random.normal(keys[1], (k, k, 4, 3))  # (k, k, out, in) as TF
  ref = jax.lax.conv_transpose(x, kernel, (stride, stride), "SAME",
                               dimension_numbers=("NHWC", "HWIO", "NHWC"),
                               transpose_kernel=True)
  out = ops.conv_transpose(x, kernel, stride)
  assert out.shape == (2, h * stride, w * stride, 4)
  np.testing.assert_allclose(out, ref, atol=1e-5)
  cot = jax.random.normal(keys[2], ref.shape)

  def grads(fn):
    return jax.grad(lambda a, b: jnp.sum(fn(a, b) * cot), argnums=(0, 1))(x, kernel)

  for g, g_ref in zip(grads(lambda a, b: ops.conv_transpose(a, b, stride)),
                      grads(lambda a, b: ops.conv_transpose_reference(a, b, stride))):
    np.testing.assert_allclose(g, g_ref, atol=1e-4)
