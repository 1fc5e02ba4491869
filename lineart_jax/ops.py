"""Convolution primitives of the network, written for fast gradients on every backend.

All convolutions use TensorFlow's 'SAME' padding and NHWC layout, as the seed did.

Transposed convolutions keep TensorFlow's kernel layout ``(kh, kw, out, in)`` and
compute exactly ``tf.nn.conv2d_transpose(x, kernel, padding='SAME')``, which is
``jax.lax.conv_transpose(x, kernel, strides, 'SAME', transpose_kernel=True)``.
That reference form is slow to differentiate on XLA:CPU: the weight gradient of a
4x4 stride-2 transposed convolution becomes a convolution with a reversed, dilated
window that no library kernel accepts (~1.5 GFLOP/s).  So:

* 4x4 stride-2 (``decoder1..3``): a 2x2 stride-1 convolution with ``4 * out``
  channels over the input padded by one pixel, followed by a shifted
  depth-to-space.  The kernel is only rearranged; no zeros are multiplied.  A
  custom VJP computes the input gradient as the ordinary strided convolution it is
  and the weight gradient as four ``dot_general``s over N*H*W.
* 3x3 stride-1 (``decoder3_flat1/2``): the reference form, whose gradients XLA:CPU
  already maps onto library kernels.

Off CPU the reference form maps onto cuDNN and is used unchanged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_DIMS = ("NHWC", "HWIO", "NHWC")


def same_padding(kernel_size: int, stride: int) -> tuple[int, int]:
  """TensorFlow's 'SAME' padding of a side divisible by ``stride`` (as every side in
  the network is: the model pads its input to a multiple of 8).  Static, so the
  convolution also exports with symbolic H and W (jax.export, ONNX)."""
  total = max(kernel_size - stride, 0)
  return total // 2, total - total // 2


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1) -> jax.Array:
  """'SAME' convolution, kernel ``(kh, kw, in, out)``; H and W divisible by ``stride``."""
  pads = (same_padding(kernel.shape[0], stride), same_padding(kernel.shape[1], stride))
  return lax.conv_general_dilated(
      x, kernel, (stride, stride), pads, dimension_numbers=_DIMS)


def conv_transpose_reference(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  """TensorFlow's ``conv2d_transpose(padding='SAME')``, kernel ``(kh, kw, out, in)``."""
  return lax.conv_transpose(
      x, kernel, (stride, stride), "SAME", dimension_numbers=_DIMS,
      transpose_kernel=True)


def _phase_kernel(kernel: jax.Array) -> jax.Array:
  """(4, 4, out, in) transposed-conv kernel -> (2, 2, in, 4 * out) phase kernel.

  Along one axis, output 2m + a (phase a) of the stride-2 'SAME' transposed
  convolution is ``sum_p xpad[m + a + p] * kernel[3 - a - 2p]`` with ``xpad`` the
  input padded by one pixel on both sides.  Reversing the kernel makes tap
  ``3 - a - 2p`` the index ``2p + a``, which a reshape splits into (p, a).
  """
  kh, kw, cout, cin = kernel.shape
  assert (kh, kw) == (4, 4), kernel.shape
  k = kernel[::-1, ::-1].reshape(2, 2, 2, 2, cout, cin)  # (p, a, q, b, out, in)
  return k.transpose(0, 2, 5, 1, 3, 4).reshape(2, 2, cin, 4 * cout)


def _upsample2x_forward(x: jax.Array, kernel: jax.Array) -> jax.Array:
  n, h, w, _ = x.shape
  cout = kernel.shape[2]
  xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  z = lax.conv_general_dilated(
      xp, _phase_kernel(kernel), (1, 1), "VALID", dimension_numbers=_DIMS)
  z = z.reshape(n, h + 1, w + 1, 2, 2, cout)
  # Shifted depth-to-space: y[2m + a, 2n + b] = z[m + a, n + b, a, b].
  rows = []
  for a in (0, 1):
    rows.append(jnp.stack([z[:, a:a + h, b:b + w, a, b] for b in (0, 1)], axis=3))
  y = jnp.stack(rows, axis=2)  # (n, h, a, w, b, out)
  return y.reshape(n, 2 * h, 2 * w, cout)


@jax.custom_vjp
def _upsample2x(x: jax.Array, kernel: jax.Array) -> jax.Array:
  return _upsample2x_forward(x, kernel)


def _upsample2x_fwd(x, kernel):
  return _upsample2x_forward(x, kernel), (x, kernel)


def _upsample2x_bwd(res, dy):
  x, kernel = res
  n, h, w, cin = x.shape
  cout = kernel.shape[2]
  # The input gradient is the forward convolution whose gradient the transposed
  # convolution is: stride 2, 'SAME' padding (one pixel each side for 4x4).
  dx = lax.conv_general_dilated(
      dy, kernel, (2, 2), ((1, 1), (1, 1)), dimension_numbers=_DIMS)
  # Weight gradient: kernel[t] meets dy[2i + t - 1] * x[i].  With dy padded by
  # one pixel, dy_pad[2i + t] is block i + t // 2, row t % 2 of the padded
  # gradient cut into 2x2 blocks; laying the blocks out as channels (once)
  # makes each of the four block offsets one (N*H*W, in)^T @ (N*H*W, 4*out) matmul.
  dyp = jnp.pad(dy, ((0, 0), (1, 1), (1, 1), (0, 0)))
  dyp = dyp.reshape(n, h + 1, 2, w + 1, 2, cout).transpose(0, 1, 3, 2, 4, 5)
  dyp = dyp.reshape(n, h + 1, w + 1, 4 * cout)
  xm = x.reshape(n * h * w, cin)
  parts = [[lax.dot_general(xm, dyp[:, sh:sh + h, sw:sw + w].reshape(n * h * w, 4 * cout),
                            (((0,), (0,)), ((), ())), preferred_element_type=jnp.float32)
            for sw in (0, 1)] for sh in (0, 1)]
  dk = jnp.stack([jnp.stack(row, axis=0) for row in parts], axis=0)  # (sh, sw, in, 4 out)
  dk = dk.reshape(2, 2, cin, 2, 2, cout)  # (sh, sw, in, rh, rw, out)
  dk = dk.transpose(0, 3, 1, 4, 5, 2).reshape(4, 4, cout, cin)
  return dx.astype(x.dtype), dk.astype(kernel.dtype)


_upsample2x.defvjp(_upsample2x_fwd, _upsample2x_bwd)


TRANSPOSED_CONV_IMPLS = ("auto", "phase", "xla")


def resolve_conv_transpose_impl(impl: str) -> str:
  """"phase" or "xla": what ``impl`` means on the default backend ("auto": phase on CPU)."""
  if impl not in TRANSPOSED_CONV_IMPLS:
    raise ValueError(f"transposed conv impl must be one of {TRANSPOSED_CONV_IMPLS}, not {impl!r}")
  if impl == "auto":
    return "phase" if jax.default_backend() == "cpu" else "xla"
  return impl


def conv_transpose(x: jax.Array, kernel: jax.Array, stride: int, impl: str = "auto"
                   ) -> jax.Array:
  """TensorFlow ``conv2d_transpose(padding='SAME')``, fast to differentiate on CPU.

  ``impl``: "phase" (the 2x2 phase convolution with its custom VJP, for 4x4
  stride-2 kernels), "xla" (``lax.conv_transpose``: cuDNN on GPU), or "auto":
  phase on CPU, xla elsewhere, chosen when tracing from the default backend.
  ``lax.platform_dependent`` would defer the choice to compile time, but its
  conditional stops XLA from picking library kernels for the gradients inside
  (decoder3_flat1's gradient at batch 15, 128x128: 15.5 s instead of 0.13 s).
  """
  if resolve_conv_transpose_impl(impl) == "phase" and stride == 2 and kernel.shape[:2] == (4, 4):
    return _upsample2x(x, kernel)
  return conv_transpose_reference(x, kernel, stride)
