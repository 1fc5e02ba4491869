"""The Python API: line art from arrays, PIL images or files, in one call.

  import lineart_jax
  extractor = lineart_jax.LineArtExtractor.from_pretrained()       # the shipped model
  lines = extractor("art.png", line_weight=1.5, tone="dark")       # (H, W) float32 in [0, 1]
  batch = extractor([rgb_array, pil_image], dtype="uint8", threshold=0.5)   # a list back

Why a class with a loader: loading weights and compiling the network take
seconds, a call on a frame a fraction of that, so a dataset script loads once and
calls many times.  Calls go through the same tiled inference as
``python -m lineart_jax.infer`` (which is built on this class), so results are the
same, memory stays bounded at any image size, and same-sized images in one call
share device calls.  The line style is chosen per call (one compiled network
serves every style).
"""

from __future__ import annotations

import os

import numpy as np

from lineart_jax import extractors
from lineart_jax.data.imageio import read_color, to_rgb
from lineart_jax.style import Style

OUTPUT_DTYPES = ("float32", "uint8")


def load_extractor(source: str = "pretrained", *, compute_dtype: str = "float32",
                   tile: int = 768, batch: int = 1) -> extractors.Extractor:
  """The extractor of ``source``: ``"pretrained"`` (the shipped model), a folder of
  weights in the shipped format, a training workdir or checkpoint folder, or an
  exported ``.onnx`` file (run in onnxruntime).  FileNotFoundError / ValueError
  name the source and the problem."""
  source = os.fspath(source)
  if source.lower().endswith(".onnx"):
    return extractors.OnnxExtractor(source, tile=tile, batch=batch)
  from lineart_jax.pretrained import PRETRAINED
  if source != PRETRAINED and not os.path.exists(source):
    raise FileNotFoundError(f"{source}: no such weights folder, workdir, checkpoint or "
                            ".onnx file")
  return extractors.NetworkExtractor.from_weights(source, dtype=compute_dtype, tile=tile,
                                                  batch=batch)


def as_rgb(image, where: str = "image") -> np.ndarray:
  """(H, W, 3) uint8 RGB from a uint8 array (RGB, gray (H, W) or RGBA, composited
  over white as image files are), a PIL image, or a path (decoded as ``infer``
  decodes files).  TypeError / ValueError / ImageError name ``where``."""
  if isinstance(image, (str, os.PathLike)):
    return read_color(os.fspath(image))
  if hasattr(image, "mode") and hasattr(image, "convert"):  # a PIL image (PIL not imported)
    alpha = "A" in image.mode or "transparency" in getattr(image, "info", {})
    image = np.asarray(image.convert("RGBA" if alpha else "RGB"))
  if not isinstance(image, np.ndarray):
    raise TypeError(f"{where}: a uint8 RGB array, a PIL image or a path, not "
                    f"{type(image).__name__}")
  if image.dtype != np.uint8:
    raise TypeError(f"{where}: uint8 pixels (0..255) expected, got {image.dtype}")
  if image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4)):
    if image.ndim == 3 and image.shape[2] == 3:
      return image
    if image.ndim == 3 and image.shape[2] == 4:
      image = image[..., [2, 1, 0, 3]]  # to_rgb composites OpenCV's BGRA
    return to_rgb(image)
  raise ValueError(f"{where}: an (H, W, 3) RGB, (H, W, 4) RGBA or (H, W) gray array "
                   f"expected, got shape {image.shape}")


def finish(lines: np.ndarray, threshold: float | None, dtype) -> np.ndarray:
  """Float line art in [0, 1] as asked: float32 or uint8, binarized at
  ``threshold`` (ink where below it) or not."""
  name = np.dtype(dtype).name
  if name not in OUTPUT_DTYPES:
    raise ValueError(f"dtype {name}: line art comes as {' or '.join(OUTPUT_DTYPES)}")
  if name == "uint8":
    return extractors.to_uint8(lines, threshold)
  if threshold is not None:
    return np.where(lines < threshold, 0.0, 1.0).astype(np.float32)
  return lines.astype(np.float32, copy=False)


class LineArtExtractor:
  """Line art of color illustrations with one loaded model (see the module)."""

  def __init__(self, extractor: extractors.Extractor):
    self.extractor = extractor

  @classmethod
  def from_pretrained(cls, **options) -> "LineArtExtractor":
    """The shipped model (``lineart_jax/pretrained``); ``options`` as ``load``."""
    return cls.load("pretrained", **options)

  @classmethod
  def load(cls, source: str = "pretrained", *, compute_dtype: str = "float32", tile: int = 768,
           batch: int = 1) -> "LineArtExtractor":
    """``source``: ``"pretrained"``, a weights folder
    (``python -m lineart_jax.finetune ... --out DIR``: ``DIR/weights``), a training
    workdir or checkpoint, or an exported ``.onnx`` file.  ``compute_dtype``
    float32 or bfloat16 (JAX models); ``tile``: the tile side (a multiple of 8);
    ``batch``: tiles per device call (raise it on a GPU)."""
    return cls(load_extractor(source, compute_dtype=compute_dtype, tile=tile, batch=batch))

  @classmethod
  def opencv_method(cls) -> "LineArtExtractor":
    """The classic OpenCV dilate-and-subtract method, for comparison (no style)."""
    return cls(extractors.OPENCV)

  @property
  def description(self) -> str:
    return self.extractor.description

  def lines(self, images: list[np.ndarray], style: Style = Style(),
            max_side: int | None = None, name: str = "") -> list[np.ndarray]:
    """Float line art in [0, 1] of decoded uint8 RGB arrays (the folder run's
    entry); ``name`` labels the progress bar of one image of many tiles."""
    return extractors.extract_many(images, self.extractor, style, max_side, name)

  def check_style(self, style: Style) -> None:
    """ValueError naming the model when it cannot draw ``style`` (no style input,
    or ``contours`` asked of a model made before that control)."""
    self.extractor.check_style(style)

  def images_per_call(self, height: int, width: int, max_side: int | None = None) -> int:
    """How many images of this size fill one device call (``batch`` tiles)."""
    return self.extractor.images_per_call(*extractors.working_size(height, width, max_side))

  def __call__(self, images, *, line_weight: float = 1.0, detail: float = 1.0,
               tone: str = "drawn", blacks: str = "auto", contours: str = "drawn",
               threshold: float | None = None, max_side: int | None = None,
               dtype="float32"):
    """Line art of ``images``: one image (a uint8 RGB array, a PIL image or a
    path) gives one (H, W) array; a list gives a list; an (N, H, W, 3) array gives
    (N, H, W).  Line style: ``lineart_jax.style`` (the defaults draw as the model
    always drew).  ``threshold``: binarize (ink where below it); ``max_side``:
    extract at most at this long side, then upscale; ``dtype``: ``"float32"`` in
    [0, 1] (1 = paper) or ``"uint8"`` (255 = paper)."""
    style = Style(line_weight, detail, tone, blacks, contours)
    self.check_style(style)
    finish(np.zeros((1, 1), np.float32), None, dtype)  # a bad dtype fails before the work
    single = not isinstance(images, (list, tuple)) and not (
        isinstance(images, np.ndarray) and images.ndim == 4)
    items = [images] if single else list(images)
    rgb = [as_rgb(im, im if isinstance(im, (str, os.PathLike)) else f"image {i}")
           for i, im in enumerate(items)]
    out = [finish(lines, threshold, dtype) for lines in self.lines(rgb, style, max_side)]
    if single:
      return out[0]
    if isinstance(images, np.ndarray):
      return np.stack(out)
    return out
