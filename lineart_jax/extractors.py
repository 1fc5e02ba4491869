"""What turns decoded RGB images into line art: the network (JAX or an exported
ONNX model in onnxruntime, both tiled) or the classic OpenCV method.

Every extractor maps a list of same-sized uint8 RGB images and a line style to
float line art in [0, 1] at their own size (``lines``).  Same-sized images share
device calls: the tiles of several images are batched together
(``tiling.predict_tiled_many``), so a folder of video frames fills a batch as
one large image does.  The style is an argument of each call, not of the
compiled program (the network reads it as an input), so one compilation serves
every style.  ``extract_many`` adds ``max_side`` (extract at a reduced size, then
upscale) and groups images by size; ``lineart_jax.api`` is the public face of
all this and ``lineart_jax.infer`` its command line.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tqdm import tqdm

from lineart_jax import opencv_method, tiling
from lineart_jax import style as style_lib
from lineart_jax.style import Style

if TYPE_CHECKING:  # annotations only: model imports jax and flax, which this module defers
  from lineart_jax.model import ModelConfig

TILE_PROGRESS_ABOVE = 4  # an image of more tiles gets a progress bar of its own
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "lineart_jax", "jax")


class Extractor:
  """Line art of same-sized uint8 RGB images, in a line style."""

  description: str = ""

  def check_style(self, style: Style) -> None:
    """ValueError naming the model when it cannot draw ``style``."""

  def lines(self, images: list[np.ndarray], style: Style, name: str = "") -> list[np.ndarray]:
    """(H, W) float32 in [0, 1] for each (H, W, 3) uint8 RGB image of one size;
    ``name`` labels a progress bar (one image of many tiles)."""
    raise NotImplementedError

  def images_per_call(self, height: int, width: int) -> int:
    """How many images of this size one call of ``lines`` should get to fill a
    device call."""
    return 1


class TiledExtractor(Extractor):
  """Runs ``predict`` (uint8 RGB batch, style -> line art batch) over fixed-size
  tiles (``lineart_jax.tiling``: exact, bounded memory)."""

  tile: int = 768
  batch: int = 1
  style_dims: int = 0
  style: Style = Style()  # the style of ``__call__`` (the one given at construction)

  def predict(self, rgb_batch: np.ndarray, style: Style | None = None) -> np.ndarray:
    """(B, th, tw) line art of a uint8 RGB tile batch (B, th, tw, 3) in ``style``
    (None: the extractor's own)."""
    raise NotImplementedError

  def lines(self, images, style, name=""):
    self.check_style(style)
    n = len(images) * tiling.count_tiles(images[0].shape[0], images[0].shape[1], self.tile)
    bar = (tqdm(total=n, desc=f"  tiles of {name}", unit="tile")
           if len(images) == 1 and n > TILE_PROGRESS_ABOVE else None)
    out = tiling.predict_tiled_many(images, lambda b: self.predict(b, style), self.tile,
                                    self.batch, bar.update if bar else None)
    if bar:
      bar.close()
    return out

  def images_per_call(self, height, width):
    return max(1, -(-self.batch // tiling.count_tiles(height, width, self.tile)))

  def __call__(self, rgb: np.ndarray, name: str = "") -> np.ndarray:
    """Line art of one image in the extractor's own style; a progress bar over
    tiles when there are many."""
    return self.lines([rgb], self.style, name)[0]


class NetworkExtractor(TiledExtractor):
  """The trained network, tiled, on the default device."""

  def __init__(self, model_cfg: ModelConfig, variables: dict, dtype: str = "float32",
               tile: int = 768, batch: int = 1, style: Style | None = None,
               what: str = "this model"):
    """``model_cfg``: the weights' ``ModelConfig`` (``load_weights``' first item);
    ``style``: the style of ``__call__`` (a model with a style input; the default
    style works with every model); ``what`` names the model in errors."""
    import jax
    import jax.numpy as jnp
    from lineart_jax.model import from_config, predict_lines
    self.what = what
    self.style_dims = model_cfg.style_dims
    self.style = Style() if style is None else style
    self.check_style(self.style)
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
      jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
      jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    model = from_config(model_cfg, dtype=jnp.dtype(dtype))
    self.variables = jax.device_put(variables)
    # the style vector is an input of the compiled program (None: no style input)
    self._apply = jax.jit(lambda v, rgb, s: predict_lines(model, v, rgb, s))
    self.tile, self.batch = tile, batch

  @classmethod
  def from_weights(cls, spec: str, **kwargs) -> "NetworkExtractor":
    """``spec``: ``"pretrained"``, a folder of weights in the shipped format, or a
    workdir / checkpoint folder (any topology)."""
    from lineart_jax.pretrained import load_weights
    model_cfg, variables, what = load_weights(spec)
    extractor = cls(model_cfg, variables, what=what, **kwargs)
    extractor.description = what
    if not extractor.style.is_default:
      extractor.description += f"; style: {extractor.style.describe()}"
    return extractor

  def check_style(self, style):
    style_lib.check_model(style, self.style_dims, self.what)

  def predict(self, rgb_batch, style=None):
    style = self.style if style is None else style
    vector = style.vector(self.style_dims) if self.style_dims else None
    return np.asarray(self._apply(self.variables, rgb_batch, vector))


class OnnxExtractor(TiledExtractor):
  """An exported ONNX model (``lineart_jax.export``) in onnxruntime, with the same
  tiling; a style model's export takes the style vector as its ``style`` input."""

  def __init__(self, path: str, tile: int = 768, batch: int = 1, style: Style | None = None):
    try:
      import onnxruntime as ort
    except ImportError as e:
      raise ValueError("--model=FILE.onnx needs onnxruntime: pip install "
                       "'lineart_jax[export]'") from e
    if not os.path.isfile(path):
      raise FileNotFoundError(f"{path}: no such ONNX file")
    try:
      self.session = ort.InferenceSession(path, providers=ort.get_available_providers())
    except Exception as e:  # onnxruntime raises its own exception types
      raise ValueError(f"{path}: not a loadable ONNX model ({e})") from e
    inputs = self.session.get_inputs()
    self.input_name = inputs[0].name
    self.style_input = "style" if any(i.name == "style" for i in inputs) else None
    # (N, 5) for exports made before the contours entry, (N, 6) since
    self.style_dims = (int(next(i for i in inputs if i.name == "style").shape[1])
                       if self.style_input else 0)
    self.what = f"ONNX model {path}"
    self.style = Style() if style is None else style
    self.check_style(self.style)
    self.tile, self.batch = tile, batch
    self.description = f"ONNX model {path} (onnxruntime)"

  def check_style(self, style):
    style_lib.check_model(style, self.style_dims, self.what)

  def predict(self, rgb_batch, style=None):
    style = self.style if style is None else style
    feeds = {self.input_name: np.ascontiguousarray(rgb_batch, np.uint8)}
    if self.style_input:
      feeds[self.style_input] = np.repeat(style.vector(self.style_dims)[None],
                                          len(rgb_batch), 0)
    return self.session.run(None, feeds)[0]


class OpenCVExtractor(Extractor):
  """The classic dilate-and-subtract method (``opencv_method``): no model, no style."""

  description = "the OpenCV method (dilate and subtract)"

  def check_style(self, style):
    if not style.is_default:
      raise ValueError("the line-style controls need a network, not the OpenCV method")

  def lines(self, images, style, name=""):
    self.check_style(style)
    return [opencv_method.extract_lines(im).astype(np.float32) / 255.0 for im in images]


OPENCV = OpenCVExtractor()


def working_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
  """The (height, width) an image is extracted at: at most ``max_side`` long."""
  scale = min(1.0, max_side / max(height, width)) if max_side else 1.0
  if scale >= 1.0:
    return height, width
  return max(1, round(height * scale)), max(1, round(width * scale))


def extract_many(images: list[np.ndarray], extractor: Extractor, style: Style | None = None,
                 max_side: int | None = None, name: str = "") -> list[np.ndarray]:
  """uint8 RGB images of any sizes -> float line art in [0, 1], each at its own
  size.  With ``max_side`` an image is extracted at most at that long side, then
  upscaled.  Images of one (reduced) size share device calls."""
  style = getattr(extractor, "style", Style()) if style is None else style
  small, groups = [], defaultdict(list)
  for i, image in enumerate(images):
    size = working_size(*image.shape[:2], max_side)
    if size != image.shape[:2]:
      image = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
    small.append(image)
    groups[image.shape].append(i)
  out: list[np.ndarray | None] = [None] * len(images)
  for indices in groups.values():
    for i, lines in zip(indices, extractor.lines([small[i] for i in indices], style, name)):
      h, w = images[i].shape[:2]
      if lines.shape != (h, w):
        lines = cv2.resize(lines, (w, h), interpolation=cv2.INTER_CUBIC)
      out[i] = np.clip(lines, 0.0, 1.0)
  return out


def extract(image: np.ndarray, extractor: Extractor | None, max_side: int | None,
            name: str = "") -> np.ndarray:
  """uint8 RGB -> float line art in [0, 1] at the image's own size, in the
  extractor's own style (``extractor`` None: the OpenCV method)."""
  return extract_many([image], OPENCV if extractor is None else extractor, None, max_side,
                      name)[0]


def to_uint8(lines: np.ndarray, threshold: float | None) -> np.ndarray:
  """Float line art in [0, 1] -> uint8 (255 = paper); ``threshold``: binarized,
  ink (0) where the line art is below it."""
  if threshold is not None:
    return np.where(lines < threshold, 0, 255).astype(np.uint8)
  return np.round(lines * 255.0).astype(np.uint8)
