"""The seed's fully convolutional line-art autoencoder, layer for layer, in Flax linen.

Layer names, kernels, strides and channel counts are the seed's (see
``shared/seed/DIGEST.md``); every layer but the last is conv -> BatchNorm -> ReLU,
the last is a transposed conv with a bias followed by a sigmoid (1 = paper,
0 = ink).  Parameters are float32; ``dtype`` sets the compute dtype.

Two options extend it, both off by default (the seed network, exactly):

* ``edges=E``: E local-contrast maps of the luma, ``dilate(luma, (2r+1)^2) - luma``
  for r = 1..E (r = 1 is the classic OpenCV method's map), computed inside the
  network from its RGB input.  They answer "is there a thin dark structure here",
  which flat dark paint never does, and enter ``encoder1`` through a zero-initialised
  convolution of their own (``encoder1_edges``) added before its BatchNorm.
* ``arch="skip"``: U-Net-style lateral connections.  Encoder features at 1/4 and
  1/2 resolution and the full-resolution input (RGB and edge maps) are projected
  by zero-initialised convolutions (``SKIPS``) and added to the decoder's
  activations of the same scale, so the decoder need not rebuild every line from
  1/8-resolution features.

A third, ``style_dims=6`` (5 for models made before the contours control),
gives the network a line-style input (``lineart_jax.style``: line weight,
detail, tone, solid blacks, contours), a vector per
image of offsets from the default style.  It modulates every BatchNorm layer's
output, FiLM-style: ``y * (1 + gamma(s)) + beta(s)`` before the ReLU, with
``gamma`` and ``beta`` bias-free linear maps of the style ``s`` (``<bn>_style``).
FiLM rather than constant input channels: a style must change what the decoder
draws (weight, tone) as much as what the encoder sees, and an input channel
reaches the decoder only through every layer between; the maps being linear and
bias-free, the default style (zero) leaves every layer exactly as without them,
at initialisation and after training.  All but tone: ``tone=dark`` is the
weight-free output layer ``darken_lines`` (every line's core at full ink), which
the default tone leaves out.

Every new layer starts at zero, so a network with any option computes exactly
what the seed network with the same weights computes: a fine-tune from seed
weights starts from the model they are (``extend_variables``).  The shipped
weights have the skips (trained alone on a fixed network: docs/model_card.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lineart_jax import ops, style

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

ARCHS = ("seed", "skip")
# arch="skip": (name, source, target, kernel): the source's output (post-ReLU;
# "input" = RGB and edge maps) through a zero-initialised, bias-free convolution,
# added to the target layer's output (post-ReLU), which has the same resolution.
SKIPS: tuple[tuple[str, str, str, int], ...] = (
    ("skip_quarter", "encoder2_flat2", "decoder1", 1),
    ("skip_half", "encoder1_flat2", "decoder2", 1),
    ("skip_full", "input", "decoder3", 3),
)
SKIP_NAMES = frozenset(name for name, _, _, _ in SKIPS)
# edges > 0: the edge maps' zero-initialised convolution, summed with encoder1's
# before encoder1's BatchNorm (so folding that BatchNorm scales both).
EDGE_LAYER, EDGE_TARGET = "encoder1_edges", "encoder1"
# style_dims > 0: each BatchNorm layer's FiLM map is named <bn name> + this.
STYLE_SUFFIX = "_style"
# The layers after the 1/8 bottleneck, with their BatchNorm and style layers, and
# the skips (which all feed the decoder): what ``train_only="decoder"`` trains.
DECODER_NAMES = frozenset(
    {name for name, *_ in LAYERS if name.startswith("decoder")}
    | {bn + suffix for name, *_, bn in LAYERS if name.startswith("decoder") and bn
       for suffix in ("", STYLE_SUFFIX)}
    | SKIP_NAMES)
# How the style reaches the network: "film" (the shipped form) modulates every
# BatchNorm layer; "channels" feeds it as constant input channels, i.e. a
# zero-initialised convolution of the style map summed with encoder1's, before its
# BatchNorm (as the edge maps are).  Measured against each other: docs/model_card.md.
STYLE_INPUTS = ("film", "channels")
INPUT_STYLE_LAYER = "input" + STYLE_SUFFIX
TONE_ENTRY = style.ENTRIES.index("tone_dark")
# Edge maps widen the receptive radius by their widest window's radius, and
# tone=dark by TONE_RADIUS: at most 88 + 4 + 2 <= tiling.MARGIN (96), so tiled
# inference stays exact.
MAX_EDGE_SCALES = 4
# style tone=dark (``darken_lines``): a line's core is the darkest output pixel
# within this radius, and a neighbourhood whose darkest pixel is lighter than
# TONE_FLOOR (1 - TONE_FLOOR = 0.75, the line-style measures' ink) has no line.
TONE_RADIUS = 2
TONE_FLOOR = 0.25


def edge_maps(x: jax.Array, scales: int) -> jax.Array:
  """(N, H, W, ``scales``) local contrast of RGB ``x`` in [0, 1]:
  ``max(luma over a (2r+1) x (2r+1) window) - luma`` for r = 1..scales.

  Scale 1 is what ``opencv_method`` computes (OpenCV's gray weights, its dilate
  ignores pixels beyond the border as the -inf padding here does), inverted:
  high on thin dark strokes, zero on flat areas however dark.
  """
  luma = (x @ jnp.asarray([0.299, 0.587, 0.114], x.dtype))[..., None]
  # flax's max_pool (padding ignored, as -inf), which export turns into an ONNX
  # MaxPool; a 4-D lax.reduce_window would become one onnxruntime refuses.
  maps = [nn.max_pool(luma, window_shape=(2 * r + 1, 2 * r + 1), padding="SAME") - luma
          for r in range(1, scales + 1)]
  return jnp.concatenate(maps, axis=-1)


def check_options(arch: str, edges: int, style_dims: int = 0, style_input: str = "film") -> None:
  if arch not in ARCHS:
    raise ValueError(f"model arch {arch!r} is not one of {ARCHS}")
  if not 0 <= int(edges) <= MAX_EDGE_SCALES or int(edges) != edges:
    raise ValueError(f"model edges={edges}: must be an integer from 0 (off) to {MAX_EDGE_SCALES}")
  if style_dims not in (0, *style.SUPPORTED_DIMS):
    raise ValueError(f"model style_dims={style_dims}: must be 0 (no style input), "
                     f"{style.DIMS} ({', '.join(style.ENTRIES)}) or {style.LEGACY_DIMS} (models "
                     "made before the contours entry)")
  if style_input not in STYLE_INPUTS:
    raise ValueError(f"model style_input={style_input!r}: must be one of {STYLE_INPUTS}")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Which network: the fields that decide the variables' tree and what it computes.

  One typed, immutable value, made where a config is read (a checkpoint's or
  shipped weights' JSON: ``from_dict``; a training config: ``trainer.model_config``)
  and passed as it is everywhere inside, so no consumer re-reads defaults or
  re-validates a dict.  Construction validates (``check_options``), so a
  ``ModelConfig`` is always a buildable network; frozen and hashable, so two are
  the same network exactly when they compare equal (a checkpoint against a
  config, runs to average).  Equality ignores how it runs (dtype, BatchNorm
  momentum): those are ``from_config``'s keyword arguments, never saved here.
  """
  width: float
  arch: str = "seed"
  edges: int = 0
  style_dims: int = 0
  style_input: str = "film"

  def __post_init__(self):
    check_options(self.arch, self.edges, self.style_dims, self.style_input)
    # the JSON types ``to_dict`` writes (width 1 -> 1.0), whatever the caller passed,
    # so equal networks compare (and hash) equal
    for name, kind in (("width", float), ("arch", str), ("edges", int), ("style_dims", int),
                       ("style_input", str)):
      object.__setattr__(self, name, kind(getattr(self, name)))

  @classmethod
  def from_dict(cls, d) -> "ModelConfig":
    """From the on-disk form (``to_dict``'s, a checkpoint's ``model`` item, a
    weights folder's ``lineart.json`` ``model``) or a training config's ``model``
    (``ConfigDict.to_dict()``: its other keys, e.g. dtype, are ignored).  Fields a
    dict lacks take their defaults: configs written before ``arch``/``edges``/
    ``style_dims`` existed are the seed network without edge maps or style input
    (and a style input is FiLM).  ValueError for an invalid or width-less one."""
    if "width" not in d:
      raise ValueError(f"model config {dict(d)} has no width")
    return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

  def to_dict(self) -> dict:
    """Every field, in the order checkpoints and ``lineart.json`` have always held
    them: the on-disk form (``from_dict`` reads it back equal)."""
    return dataclasses.asdict(self)

  def describe(self) -> str:
    """'width 0.5' for the seed network, 'width 0.5, arch skip, 2 edge maps, style
    input' otherwise."""
    parts = [f"width {self.width:g}"]
    if self.arch != "seed":
      parts.append(f"arch {self.arch}")
    if self.edges:
      parts.append(f"{self.edges} edge map{'s' if self.edges > 1 else ''}")
    if self.style_dims:
      parts.append("style input" + (f" ({self.style_input})" if self.style_input != "film"
                                    else ""))
    return ", ".join(parts)


def from_config(cfg: ModelConfig, **kwargs) -> "AutoEncoder":
  """The ``AutoEncoder`` ``cfg`` describes (``kwargs``: dtype, export forms...)."""
  if not isinstance(cfg, ModelConfig):  # a dict from before ModelConfig: say how to convert
    raise TypeError(f"from_config takes a ModelConfig, not {type(cfg).__name__} "
                    "(ModelConfig.from_dict converts a dict)")
  return AutoEncoder(width=cfg.width, arch=cfg.arch, edges=cfg.edges,
                     style_dims=cfg.style_dims, style_input=cfg.style_input, **kwargs)


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
  zero_init: bool = False  # the options' new layers: the network starts as without them

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k, cin = self.kernel_size, x.shape[-1]
    shape = (k, k, self.features, cin) if self.transpose else (k, k, cin, self.features)
    init = nn.initializers.zeros if self.zero_init else kernel_init
    kernel = self.param("kernel", init, shape, jnp.float32).astype(self.dtype)
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
    arch: "seed" (the seed's layers) or "skip" (plus ``SKIPS``).
    edges: number of edge-map scales fed beside RGB (0 = none).
    style_dims: 0, or ``style.DIMS`` for a style input (``__call__``'s
      ``style``, default the default style).
    style_input: how the style enters, ``STYLE_INPUTS``: FiLM of every BatchNorm
      layer, or constant input channels.
  """
  width: float = 1.0
  arch: str = "seed"
  edges: int = 0
  style_dims: int = 0
  style_input: str = "film"
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
  def __call__(self, x: jax.Array, train: bool, style: jax.Array | None = None) -> jax.Array:
    """``style``: (N, style_dims) or (style_dims,) offsets from the default style
    (``lineart_jax.style.Style.vector``); None = the default style."""
    if x.ndim != 4 or x.shape[-1] != 3:
      raise ValueError(f"AutoEncoder expects (N, H, W, 3) RGB input, got shape {x.shape}")
    check_options(self.arch, self.edges, self.style_dims, self.style_input)
    n, h, w, _ = x.shape
    if style is not None and not self.style_dims:
      raise ValueError("this model has no style input (style_dims=0)")
    if self.style_dims:
      style = (jnp.zeros((n, self.style_dims), jnp.float32) if style is None
               else jnp.broadcast_to(jnp.asarray(style, jnp.float32), (n, self.style_dims)))
      # tone is the output layer darken_lines, not FiLM: the style layers never see
      # it (their tone rows get no gradient and stay at their zero init)
      film_style = style * (np.arange(self.style_dims) != TONE_ENTRY).astype(np.float32)
    ph, pw = (-h % STRIDE_PRODUCT, -w % STRIDE_PRODUCT) if self.pad_to_stride else (0, 0)
    if ph or pw:
      x = jnp.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    edges = edge_maps(x.astype(jnp.float32), self.edges) if self.edges else None
    skips = {target: (name, source, k) for name, source, target, k in SKIPS
             } if self.arch == "skip" else {}
    sources = {source for _, source, _ in skips.values()}
    saved = {}
    style_map = (jnp.broadcast_to(film_style[:, None, None, :], (*x.shape[:3], self.style_dims))
                 if self.style_dims and self.style_input == "channels" else None)
    if "input" in sources:
      saved["input"] = x if edges is None else jnp.concatenate([x, edges], -1)
    for name, kind, out, k, stride, bn_name in LAYERS:
      features = out if bn_name is None else channels(out, self.width)
      x = Conv(features, k, stride, transpose=(kind == "deconv"),
               use_bias=bn_name is None or self.batchnorm_folded, dtype=self.dtype,
               deconv_impl=self.deconv_impl, name=name)(x)
      for extra_name, extra in ((EDGE_LAYER, edges), (INPUT_STYLE_LAYER, style_map)):
        if name == EDGE_TARGET and extra is not None:  # beside RGB, before the BatchNorm
          x = x + Conv(features, k, stride, use_bias=False, dtype=self.dtype, zero_init=True,
                       name=extra_name)(extra)
      if bn_name is not None and not self.batchnorm_folded:
        # Two-pass variance, E[(x - mean)^2], as TensorFlow's moments: flax's default
        # E[x^2] - mean^2 cancels catastrophically in float32 where |mean| >> std, which
        # made gradients depend on the reduction order by up to 10% (see tests).
        x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                         axis_name=self.bn_axis_name if train else None,
                         use_fast_variance=False, dtype=self.dtype, name=bn_name)(x)
      if bn_name is not None:
        if self.style_dims and self.style_input == "film":
          film = nn.Dense(2 * features, use_bias=False, kernel_init=nn.initializers.zeros,
                          name=bn_name + STYLE_SUFFIX)(film_style)
          gamma, beta = jnp.split(film.astype(self.dtype)[:, None, None, :], 2, axis=-1)
          x = x * (1 + gamma) + beta
        x = nn.relu(x)
      if name in sources:
        saved[name] = x
      if name in skips:
        skip_name, source, sk = skips[name]
        x = x + Conv(x.shape[-1], sk, 1, use_bias=False, dtype=self.dtype, zero_init=True,
                     name=skip_name)(saved[source])
    out = nn.sigmoid(x.astype(jnp.float32))
    if self.style_dims:  # before the crop: tiles and the whole image see the same border
      out = darken_lines(out, style[:, TONE_ENTRY])
    return out[:, :h, :w, :]


def darken_lines(lines: jax.Array, amount: jax.Array) -> jax.Array:
  """``tone=dark``: every line's core at full ink, its anti-aliased edges kept.

  ``lines`` (N, H, W, 1) in (0, 1), 1 = paper; ``amount`` (N,) in [0, 1] blends
  from the lines as they are (0) to dark (1).  Each pixel's darkness is divided
  by the darkest within ``TONE_RADIUS`` (a disk: the 3x3 square and the 5-px
  cross, flax max_pools that export as ONNX MaxPool), so the core of every mark
  goes to full ink and its edges keep their share of it; where that darkest pixel
  is lighter than ``TONE_FLOOR`` nothing changes, so no ink appears more than
  ``TONE_RADIUS`` from a mark the model draws in its own tone.

  Why an output layer and not the style layers: trained as FiLM, tone=dark drew
  the anime frames' line cores no darker (docs/model_card.md); the target it was
  trained on is this map of the drawn line art, which needs no weights.
  """
  d = 1.0 - lines
  pool = lambda window: nn.max_pool(d, window_shape=window, padding="SAME")
  k = 2 * TONE_RADIUS + 1
  m = jnp.maximum(pool((3, 3)), jnp.maximum(pool((k, 1)), pool((1, k))))
  dark = jnp.where(m >= TONE_FLOOR, d / jnp.maximum(m, TONE_FLOOR), d)
  a = jnp.clip(amount, 0.0, 1.0).astype(d.dtype)[:, None, None, None]
  return lines + a * ((1.0 - dark) - lines)  # amount 0: ``lines`` bit for bit


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
  folded = {name: dict(params[name]) for name in params
            if name in SKIP_NAMES or name.endswith(STYLE_SUFFIX)}
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
      for extra in (EDGE_LAYER, INPUT_STYLE_LAYER):  # summed before the same BatchNorm
        if name == EDGE_TARGET and extra in params:
          folded[extra] = {"kernel": params[extra]["kernel"] * s.reshape(shape)}
    folded[name] = layer
  return {"params": folded}


def extend_variables(fresh: dict, saved: dict) -> tuple[dict, list[str]]:
  """``fresh`` (a new network's variables) with every array ``saved`` has, and the
  names of the layers only ``fresh`` has.

  Loading seed-network weights into a network with edge maps or skips: the
  options' layers are zero-initialised, so the result computes what ``saved``
  computes.  Style layers made for fewer style entries (``style.LEGACY_DIMS``)
  get zero rows for the new ones (``contours``), and the skip from the input,
  made without edge maps, zero rows for the maps' channels (after RGB), so they
  too compute what they did.  Any other difference (a saved layer the new
  network lacks, another shape) is an error naming the layer.
  """
  new = []
  grows = {name for name, source, _, _ in SKIPS if source == "input"}

  def grow_input_rows(f, s, path):
    """A saved style kernel with fewer style entries, or input skip kernel with
    fewer input channels (the input axis), zero-padded at the end."""
    f_shape, s_shape = np.shape(f), np.shape(s)
    axis = len(f_shape) - 2  # Dense (in, out); Conv (kh, kw, in, out)
    if (not any(p.endswith(STYLE_SUFFIX) or p in grows for p in path)
        or len(f_shape) != len(s_shape)
        or axis < 0 or f_shape[:axis] + f_shape[axis + 1:] != s_shape[:axis] + s_shape[axis + 1:]
        or s_shape[axis] > f_shape[axis]):
      return None
    pad = [(0, 0)] * len(f_shape)
    pad[axis] = (0, f_shape[axis] - s_shape[axis])
    return np.pad(np.asarray(s), pad)

  def merge(f, s, path):
    if isinstance(f, dict):
      extra = sorted(set(s) - set(f))
      if extra:
        raise ValueError(f"saved weights have {'/'.join(path + [extra[0]])}, "
                         "which this network lacks")
      out = {}
      for k in f:
        if k in s:
          out[k] = merge(f[k], s[k], path + [k])
        else:
          out[k] = f[k]
          new.append("/".join(path + [k]))
      return out
    if tuple(np.shape(f)) != tuple(np.shape(s)):
      grown = grow_input_rows(f, s, path)
      if grown is not None:
        return grown
      raise ValueError(f"{'/'.join(path)}: saved shape {tuple(np.shape(s))}, "
                       f"this network's {tuple(np.shape(f))}")
    return s
  merged = {c: merge(fresh[c], saved.get(c, {}), [c]) for c in fresh}
  return merged, sorted({n.split("/")[1] for n in new})


def predict_lines(model: AutoEncoder, variables: dict, rgb: jax.Array,
                  style: jax.Array | None = None) -> jax.Array:
  """Inference: uint8 RGB (B, H, W, 3) -> line art (B, H, W) float in (0, 1);
  ``style`` for a model with a style input (None: the default style)."""
  x = rgb.astype(jnp.float32) / 255.0
  return model.apply(variables, x, train=False, style=style)[..., 0]
