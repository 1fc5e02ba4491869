"""CLI: extract line art from illustrations of any size.

  python -m lineart_jax.infer INPUT... [--workdir=DIR | --checkpoint=PATH] [--out=DIR]
  python -m lineart_jax.infer INPUT... --method=opencv
  python -m lineart_jax.infer INPUT... --line-weight=0.5 --detail=0 --tone=dark --blacks=paint

With neither ``--workdir`` nor ``--checkpoint`` the shipped model
(``lineart_jax/pretrained``) is used; ``--model=FILE.onnx`` runs an exported
model in onnxruntime.  The line-style flags (``lineart_jax.style``; defaults: the
default style, what a model without a style input draws) need a model with a
style input.  INPUT is files, folders (their images, recursively) or
globs.  Each input gives an 8-bit grayscale PNG at the input's own size,
``<stem>_lineart.png``, beside the input or in ``--out``.  Large images are
processed in overlapping tiles of a fixed shape (see ``lineart_jax.tiling``):
memory stays bounded and the result equals the untiled one.  Compiled programs are cached on disk
(``~/.cache/lineart_jax/jax``), so later runs skip compilation.

A bad input (unreadable, truncated, not an image, absurdly large) prints one
message and the other files are still processed; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import sys
import time

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)

import cv2
import numpy as np

from lineart_jax import opencv_method, tiling
from lineart_jax import style as style_lib
from lineart_jax.data.imageio import IMAGE_EXTENSIONS, ImageError, read_color, write_png
from lineart_jax.style import Style
from tqdm import tqdm

SUFFIX = "_lineart"
TILE_PROGRESS_ABOVE = 4  # images of more tiles get a progress bar of their own
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "lineart_jax", "jax")


def expand_inputs(inputs: list[str]) -> tuple[list[str], list[str]]:
  """(image files, error messages for inputs that match nothing)."""
  files, errors = [], []
  for item in inputs:
    if os.path.isdir(item):
      found = sorted(os.path.join(d, f) for d, _, fs in os.walk(item) for f in fs
                     if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
                     and not os.path.splitext(f)[0].endswith(SUFFIX))
      files += found
      if not found:
        errors.append(f"{item}: no images in this folder")
    elif os.path.exists(item):
      files.append(item)
    else:
      matches = sorted(glob.glob(item, recursive=True))
      files += [m for m in matches if os.path.isfile(m)]
      if not matches:
        errors.append(f"{item}: no such file, folder or matching glob")
  return list(dict.fromkeys(files)), errors


def output_path(path: str, out: str | None) -> str:
  stem = os.path.splitext(os.path.basename(path))[0]
  return os.path.join(out or os.path.dirname(os.path.abspath(path)), stem + SUFFIX + ".png")


class TiledExtractor:
  """Runs ``predict`` (uint8 RGB batch -> line art batch) over fixed-size tiles."""

  tile: int = 768
  batch: int = 1
  description: str = ""

  def predict(self, rgb_batch: np.ndarray) -> np.ndarray:
    raise NotImplementedError

  def __call__(self, rgb: np.ndarray, name: str = "") -> np.ndarray:
    """Line art of ``rgb``; a progress bar over tiles when there are many."""
    n = tiling.count_tiles(rgb.shape[0], rgb.shape[1], self.tile)
    bar = tqdm(total=n, desc=f"  tiles of {name}", unit="tile") if n > TILE_PROGRESS_ABOVE else None
    lines = tiling.predict_tiled(rgb, self.predict, self.tile, self.batch,
                                 bar.update if bar else None)
    if bar:
      bar.close()
    return lines


class NetworkExtractor(TiledExtractor):
  """The trained network, tiled, on the default device, drawing one line style."""

  def __init__(self, model_cfg: dict, variables: dict, dtype: str = "float32", tile: int = 768,
               batch: int = 1, style: Style | None = None, what: str = "this model"):
    """``model_cfg``: the weights' model config (``{'width': ..., 'arch', 'edges',
    'style_dims'}``); ``style``: the line style (a model with a style input; the
    default style works with every model)."""
    import jax
    import jax.numpy as jnp
    from lineart_jax.model import from_config, normalize_config, predict_lines
    self.style = Style() if style is None else style
    style_lib.check_model(self.style, model_cfg, what)
    jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    model = from_config(model_cfg, dtype=jnp.dtype(dtype))
    self.variables = jax.device_put(variables)
    dims = normalize_config(model_cfg)["style_dims"]
    vector = self.style.vector(dims) if dims else None
    self._apply = jax.jit(functools.partial(predict_lines, model, style=vector))
    self.tile, self.batch = tile, batch

  @classmethod
  def from_weights(cls, spec: str, **kwargs) -> "NetworkExtractor":
    """``spec``: ``"pretrained"`` or a workdir / checkpoint folder (any topology)."""
    from lineart_jax.pretrained import load_weights
    model_cfg, variables, what = load_weights(spec)
    extractor = cls(model_cfg, variables, what=what, **kwargs)
    extractor.description = what
    if not extractor.style.is_default:
      extractor.description += f"; style: {extractor.style.describe()}"
    return extractor

  def predict(self, rgb_batch: np.ndarray) -> np.ndarray:
    return np.asarray(self._apply(self.variables, rgb_batch))


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
    self.style = Style() if style is None else style
    self.style_input = "style" if any(i.name == "style" for i in inputs) else None
    # (N, 5) for exports made before the contours entry, (N, 6) since
    self.style_dims = (int(next(i for i in inputs if i.name == "style").shape[1])
                       if self.style_input else 0)
    style_lib.check_model(self.style, {"style_dims": self.style_dims}, f"ONNX model {path}")
    self.tile, self.batch = tile, batch
    self.description = f"ONNX model {path} (onnxruntime)"

  def predict(self, rgb_batch: np.ndarray) -> np.ndarray:
    feeds = {self.input_name: np.ascontiguousarray(rgb_batch, np.uint8)}
    if self.style_input:
      feeds[self.style_input] = np.repeat(self.style.vector(self.style_dims)[None],
                                          len(rgb_batch), 0)
    return self.session.run(None, feeds)[0]


def extract(image: np.ndarray, extractor, max_side: int | None, name: str = "") -> np.ndarray:
  """uint8 RGB -> float line art in [0, 1] at the image's own size."""
  h, w = image.shape[:2]
  scale = min(1.0, max_side / max(h, w)) if max_side else 1.0
  small = image
  if scale < 1.0:
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
  if extractor is None:
    lines = opencv_method.extract_lines(small).astype(np.float32) / 255.0
  else:
    lines = extractor(small, name)
  if scale < 1.0:
    lines = cv2.resize(lines, (w, h), interpolation=cv2.INTER_CUBIC)
  return np.clip(lines, 0.0, 1.0)


def to_uint8(lines: np.ndarray, threshold: float | None) -> np.ndarray:
  if threshold is not None:
    return np.where(lines < threshold, 0, 255).astype(np.uint8)
  return np.round(lines * 255.0).astype(np.uint8)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description="Extract line art from illustrations.")
  p.add_argument("inputs", nargs="+", help="image files, folders or globs")
  src = p.add_mutually_exclusive_group()
  src.add_argument("--workdir", help="training workdir (its latest checkpoint)")
  src.add_argument("--checkpoint", help="a checkpoint step folder, checkpoints/ folder, or a "
                   "folder of weights in the shipped format "
                   "(python -m lineart_jax.pretrained RUN --out DIR)")
  src.add_argument("--model", help="an exported .onnx file (lineart_jax.export), run in "
                   "onnxruntime")
  src.add_argument("--pretrained", action="store_true",
                   help="the shipped model (the default without --workdir/--checkpoint)")
  p.add_argument("--out", help="output folder (default: beside each input)")
  p.add_argument("--method", choices=["network", "opencv"], default="network")
  p.add_argument("--threshold", type=float, help="binarize: ink where value < THRESHOLD")
  p.add_argument("--max-side", type=int, help="extract at most at this long side, then upscale")
  p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
  p.add_argument("--tile", type=int, default=768, help="tile side (multiple of 8)")
  p.add_argument("--batch", type=int, default=1, help="tiles per device call")
  style_lib.add_arguments(p)
  args = p.parse_args(argv)
  try:
    style = style_lib.from_arguments(args)
  except ValueError as e:
    p.error(str(e))
  if args.method == "opencv" and not style.is_default:
    p.error("the line-style flags need a network (--method=network), not the OpenCV method")

  extractor = None
  if args.method == "network":
    from lineart_jax.pretrained import PRETRAINED
    try:
      if args.model:
        extractor = OnnxExtractor(args.model, tile=args.tile, batch=args.batch, style=style)
      else:
        extractor = NetworkExtractor.from_weights(
            args.workdir or args.checkpoint or PRETRAINED, dtype=args.dtype, tile=args.tile,
            batch=args.batch, style=style)
    except (FileNotFoundError, ValueError) as e:
      print(f"error: {e}", file=sys.stderr)
      return 2
    print(f"model: {extractor.description}", file=sys.stderr)
  files, errors = expand_inputs(args.inputs)
  for e in errors:
    print(f"error: {e}", file=sys.stderr)
  if args.out:
    os.makedirs(args.out, exist_ok=True)

  done, pixels, start = 0, 0, time.perf_counter()
  for path in tqdm(files, "images", unit="image"):
    try:
      image = read_color(path)
      h, w = image.shape[:2]
      lines = extract(image, extractor, args.max_side, os.path.basename(path))
      write_png(output_path(path, args.out), to_uint8(lines, args.threshold))
      done, pixels = done + 1, pixels + h * w
    except (ImageError, OSError) as e:
      errors.append(str(e))
      print(f"error: {e}", file=sys.stderr)
  seconds = time.perf_counter() - start
  mp = pixels / 1e6
  print(f"{done} images, {mp:.2f} megapixels in {seconds:.1f} s"
        + (f" ({seconds / mp:.2f} s/megapixel)" if mp else "")
        + (f"; {len(errors)} failed" if errors else ""))
  return 1 if errors else 0


if __name__ == "__main__":
  sys.exit(main())
