"""The paper's loss map and the weighted squared error (Simo-Serra et al. 2016).

For each target pixel (u, v) that is not white, the weight is
``min(alpha * exp(-H(u, v)) + beta, 1)`` where ``H(u, v)`` is the share of the
pixels within ``radius`` of (u, v) (a (2r+1)^2 window clipped at the image
borders, normalised by its in-image pixel count) that fall in the same histogram
bin as the pixel itself, with ``bins`` equal bins over [0, 1].  White pixels
weigh 1, and "white" means at least ``white`` (default 0.95): paper in real line
art (JPEG, scans, anti-aliased exports) sits at 0.94-0.99, and with an exact-1.0
test every paper pixel would land in the top bin with a large share and weigh
about 0.21, so ink on paper would barely be penalised.  Thin lines (a small
share of their neighbourhood) keep weight 1; large uniform dark areas fall to
``alpha / e + beta`` (0.21 for the paper's values).
"""

from __future__ import annotations

import numpy as np
import jax
import jax.numpy as jnp

ALPHA, BETA, BINS, RADIUS = 6.0, -2.0, 10, 2
WHITE = 0.95  # targets at or above this are paper (weight 1); 1.0 = exact white only


def window_counts(h: int, w: int, radius: int) -> np.ndarray:
  """In-image pixel count of each pixel's clipped (2r+1)^2 window, as numpy.

  Computed on the host from static shapes so that XLA receives a constant
  instead of constant-folding a large reduce_window (seconds of compile time).
  """
  def along(n):
    i = np.arange(n)
    return (np.minimum(i + radius, n - 1) - np.maximum(i - radius, 0) + 1).astype(np.float32)
  return np.outer(along(h), along(w))


def loss_map(target: jax.Array, alpha: float = ALPHA, beta: float = BETA,
             bins: int = BINS, radius: int = RADIUS, white: float = WHITE) -> jax.Array:
  """Per-pixel weights M for targets of shape (..., H, W) or (..., H, W, 1) in [0, 1].

  Returns float32 weights with the shape of ``target``.
  """
  target = jnp.asarray(target, jnp.float32)
  squeeze = target.ndim >= 3 and target.shape[-1] == 1
  t = target[..., 0] if squeeze else target
  h, w = t.shape[-2:]
  bin_index = jnp.minimum(jnp.floor(t * bins), bins - 1).astype(jnp.int32)
  # Pixels outside the image get bin -1 and so never count as "same bin".
  pad = [(0, 0)] * (t.ndim - 2) + [(radius, radius), (radius, radius)]
  padded = jnp.pad(bin_index, pad, constant_values=-1)
  same = jnp.zeros(t.shape, jnp.float32)
  for du in range(2 * radius + 1):
    for dv in range(2 * radius + 1):
      same += (padded[..., du:du + h, dv:dv + w] == bin_index).astype(jnp.float32)
  share = same / window_counts(h, w, radius)
  weight = jnp.minimum(alpha * jnp.exp(-share) + beta, 1.0)
  weight = jnp.where(t >= white, 1.0, weight)
  weight = jax.lax.stop_gradient(weight)
  return weight[..., None] if squeeze else weight


def per_image_loss(output: jax.Array, target: jax.Array, weights: jax.Array | None = None
                   ) -> jax.Array:
  """Sum over pixels of (M * (output - target))^2, one value per image (N,)."""
  output = output.astype(jnp.float32)
  target = target.astype(jnp.float32)
  if weights is None:
    weights = loss_map(target)
  err = (weights * (output - target)) ** 2
  return err.reshape(err.shape[0], -1).sum(axis=1)


# The grid the network's strides leave: its decoder up-samples 2x three times,
# with transposed convolutions whose phases can differ, so an output can carry a
# pattern locked to the pixel grid.  On anime frames the shipped skips soup draws
# its faint lines as rows of dots 4 px apart (the darkest of the 16 phases of a
# 4x4 grid holds 1.4-2.0x their mean darkness, against 1.05-1.15 in synthetic
# frames' targets: ``agreement``'s grid column, ``bench/contours.py``).
LATTICE_PERIOD = 4   # px: the period of that pattern (the two finest up-samplings)
# px: phases are compared within windows of this side.  An error with no grid in
# it puts (period^2 - 1) / window^2 of its energy there by chance (0.4 % at 64):
# the shipped model's error on synthetic frames puts 1.1 %, 0.6 % at 128.
LATTICE_WINDOW = 64


def lattice_energy(output: jax.Array, target: jax.Array, period: int = LATTICE_PERIOD,
                   window: int = LATTICE_WINDOW) -> jax.Array:
  """Per image (N,): the energy of the error's part that repeats with the pixel grid.

  In every ``window`` x ``window`` block of the error ``output - target`` (blocks
  that don't fit are left out), the mean error of each of the ``period``^2
  phases (pixels with the same ``(y % period, x % period)``), less the block's
  mean error, is the component of the error that is periodic on the grid; its
  energy (the squared deviations, times the pixels each phase holds) is summed
  over blocks.  Line art has no reason to favour a phase, so a model's error
  there is an artifact of its strides; the weighted squared error already
  counts it, as one part of many, and weighting it apart
  (``config.loss.lattice``) trains the pattern away (docs/model_card.md, "The
  grid's dots weighed apart").  ``(N, H, W, 1)`` or ``(N, H, W)`` inputs.
  """
  if window % period:
    raise ValueError(f"lattice window {window} is not a multiple of its period {period}")
  err = jnp.asarray(output, jnp.float32) - jnp.asarray(target, jnp.float32)
  if err.ndim == 4:
    err = jnp.squeeze(err, -1)  # (N, H, W, 1): its one channel
  n, h, w = err.shape[0], err.shape[-2] // window * window, err.shape[-1] // window * window
  if not (h and w):
    return jnp.zeros((n,), jnp.float32)
  reps = window // period
  blocks = err[:, :h, :w].reshape(n, h // window, reps, period, w // window, reps, period)
  phases = blocks.mean(axis=(2, 5))  # (n, H/window, period, W/window, period)
  dev = phases - phases.mean(axis=(2, 4), keepdims=True)
  return (dev ** 2).reshape(n, -1).sum(axis=1) * (reps * reps)
