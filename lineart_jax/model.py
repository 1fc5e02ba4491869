"""The seed's fully convolutional line-art autoencoder, layer for layer, in Flax linen.

Layer names, kernels, strides and channel counts are the seed's (see
``shared/seed/DIGEST.md``); every layer but the last is conv -> BatchNorm -> ReLU,
the last is a transposed conv with a bias followed by a sigmoid (1 = paper,
0 = ink).  Parameters are float32; ``dtype`` sets the compute dtype.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from lineart_jax import ops

# Downsampling factor of the encoder: three stride-2 layers.
STRIDE_PRODUCT = 8

# (name, kind, out_channels, kernel, stride, batchnorm name or None).
# "conv" kernels are (k, k, in, out); "deconv" kernels use TensorFlow's
# conv2d_transpose layout (k, k, out, in).
LAYERS: tuple[tuple[str, str, int, int, int, str | None], ...] = (
    ("encoder1", "conv", 48, 5, 2, "bnc1"),
    ("encoder1_flat1", "conv", 128, 3, 1, "bnc1_flat1"),
    ("encoder1_flat2", "conv", 128, 3, 1, "bnc1_flat2"),
    ("encoder2", "conv", 256, 5, 2, "bnc2"),
    ("encoder2_flat1", "conv", 256, 3, 1, "bnc2_flat1"),
    ("encoder2_flat2", "conv", 256, 3, 1, "bnc2_flat2"),
    ("encoder3", "conv", 256, 5, 2, "bnc3"),
    ("encoder3_flat1", "conv", 512, 3, 1, "bnc3_flat1"),
    ("encoder3_flat2", "conv", 1024, 3, 1, "bnc3_flat2"),
    ("encoder3_flat3", "conv", 512, 3, 1, "bnc3_flat3"),
    ("encoder3_flat4", "conv", 256, 3, 1, "bnc3_flat4"),
    ("decoder1", "deconv", 256, 4, 2, "bnd1"),
    ("decoder1_flat1", "conv", 128, 3, 1, "bnd1_flat1"),
    ("decoder1_flat2", "conv", 128, 3, 1, "bnd1_flat2"),
    ("decoder2", "deconv", 128, 4, 2, "bnd2"),
    ("decoder2_flat1", "conv", 128, 3, 1, "bnd2_flat1"),
    ("decoder2_flat2", "conv", 48, 3, 1, "bnd2_flat2"),
    ("decoder3", "deconv", 48, 4, 2, "bnd3"),
    ("decoder3_flat1", "deconv", 24, 3, 1, "bnd3_flat1"),
    ("decoder3_flat2", "deconv", 1, 3, 1, None),
)

# The seed's code initialises conv weights truncated-normal with stddev 0.02.
kernel_init = nn.initializers.truncated_normal(stddev=0.02)


class Conv(nn.Module):
  """A 'SAME' convolution (``transpose=False``) or TF-style transposed convolution.

  ``use_bias=False`` for every layer followed by BatchNorm: BatchNorm subtracts
  the batch mean, which cancels any per-channel bias, so the seed's biases there
  are dead parameters.
  """
  features: int
  kernel_size: int
  stride: int
  transpose: bool = False
  deconv_impl: str = "auto"  # see ops.conv_transpose
  use_bias: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k, cin = self.kernel_size, x.shape[-1]
    shape = (k, k, self.features, cin) if self.transpose else (k, k, cin, self.features)
    kernel = self.param("kernel", kernel_init, shape, jnp.float32).astype(self.dtype)
    x = x.astype(self.dtype)
    if self.transpose:
      y = ops.conv_transpose(x, kernel, self.stride, self.deconv_impl)
    else:
      y = ops.conv2d(x, kernel, self.stride)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,),
                         jnp.float32).astype(self.dtype)
    return y


def channels(base: int, width: float) -> int:
  """Hidden channel count scaled by ``width`` (never below 1)."""
  return max(1, int(round(base * width)))


class AutoEncoder(nn.Module):
  """RGB (N, H, W, 3) in [0, 1] -> line art (N, H, W, 1) in (0, 1).

  Any H, W >= 1 is accepted: the input is padded at the bottom and right, by
  replicating its edge pixels, up to the next multiple of 8 (the encoder's total
  stride), and the output is cropped back to H x W.  Edge replication rather
  than zeros keeps the padding from looking like a dark border (= ink).

  Attributes:
    width: scales every hidden channel count (1.0 is the seed; tests use less).
    dtype: compute dtype (e.g. ``jnp.bfloat16``); parameters stay float32 and
      the output is float32.
    bn_axis_name: mesh axis over which BatchNorm averages its batch statistics
      (``'data'`` inside the data-parallel step), None on one device.
    bn_momentum: decay of BatchNorm's running averages.
  """
  width: float = 1.0
  dtype: Any = jnp.float32
  bn_axis_name: str | None = None
  bn_momentum: float = 0.99
  # Edge-pad H, W up to a multiple of 8 (and crop back).  Export sets it False:
  # with symbolic H, W the padding amount is not a static shape.
  pad_to_stride: bool = True
  # Inference-only form for export: each BatchNorm folded into the convolution
  # before it (``fold_batchnorm`` computes the weights), so no BatchNorm layers.
  batchnorm_folded: bool = False
  deconv_impl: str = "auto"  # transposed convolutions: ops.conv_transpose's impl

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    if x.ndim != 4 or x.shape[-1] != 3:
      raise ValueError(f"AutoEncoder expects (N, H, W, 3) RGB input, got shape {x.shape}")
    n, h, w, _ = x.shape
    ph, pw = (-h % STRIDE_PRODUCT, -w % STRIDE_PRODUCT) if self.pad_to_stride else (0, 0)
    if ph or pw:
      x = jnp.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    for name, kind, out, k, stride, bn_name in LAYERS:
      features = out if bn_name is None else channels(out, self.width)
      x = Conv(features, k, stride, transpose=(kind == "deconv"),
               use_bias=bn_name is None or self.batchnorm_folded, dtype=self.dtype,
               deconv_impl=self.deconv_impl, name=name)(x)
      if bn_name is not None and self.batchnorm_folded:
        x = nn.relu(x)
      elif bn_name is not None:
        # Two-pass variance, E[(x - mean)^2], as TensorFlow's moments: flax's default
        # E[x^2] - mean^2 cancels catastrophically in float32 where |mean| >> std, which
        # made gradients depend on the reduction order by up to 10% (see tests).
        x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                         axis_name=self.bn_axis_name if train else None,
                         use_fast_variance=False, dtype=self.dtype, name=bn_name)(x)
        x = nn.relu(x)
    return nn.sigmoid(x.astype(jnp.float32))[:, :h, :w, :]


def init_variables(model: AutoEncoder, seed: int | jax.Array) -> dict:
  """Initial ``{'params', 'batch_stats'}`` for ``seed``.

  Call it under ``jax.jit`` with ``seed`` a traced argument
  (``create_train_state`` does): with a constant seed XLA would constant-fold
  the initial forward pass.  The key is
  an 'rbg' key: XLA:CPU compiles the ~40 threefry hashes of flax's per-layer key
  derivation in ~15 s, the RngBitGenerator form in ~2 s.  The input is a zero
  image of size 8: the variables' shapes do not depend on it.
  """
  key = jax.random.key(seed, impl="rbg")
  x = jnp.zeros((1, STRIDE_PRODUCT, STRIDE_PRODUCT, 3), jnp.float32)
  # Initialise without the cross-device axis: there is no mesh here.
  return model.clone(bn_axis_name=None).init(key, x, train=False)


def fold_batchnorm(variables: dict, eps: float = 1e-5) -> dict:
  """``{'params'}`` of the ``batchnorm_folded`` model equal to ``variables`` in
  inference mode: BatchNorm's ``(y - mean) * scale / sqrt(var + eps) + bias`` after a
  convolution is the convolution with its kernel's output channels multiplied by
  ``s = scale / sqrt(var + eps)`` and the bias ``bias - mean * s``."""
  params, stats = variables["params"], variables["batch_stats"]
  folded = {}
  for name, kind, _, _, _, bn_name in LAYERS:
    layer = dict(params[name])
    if bn_name is not None:
      bn, st = params[bn_name], stats[bn_name]
      s = bn["scale"] / jnp.sqrt(st["var"] + eps)
      out_axis = 2 if kind == "deconv" else 3  # deconv kernels are (k, k, out, in)
      shape = [1, 1, 1, 1]
      shape[out_axis] = -1
      layer["kernel"] = layer["kernel"] * s.reshape(shape)
      layer["bias"] = bn["bias"] - st["mean"] * s
    folded[name] = layer
  return {"params": folded}


def predict_lines(model: AutoEncoder, variables: dict, rgb: jax.Array) -> jax.Array:
  """Inference: uint8 RGB (B, H, W, 3) -> line art (B, H, W) float in (0, 1)."""
  x = rgb.astype(jnp.float32) / 255.0
  return model.apply(variables, x, train=False)[..., 0]
