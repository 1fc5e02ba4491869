"""Regenerates the README's pictures.

  python docs/make_figures.py [--model=pretrained|WORKDIR] [--real=ROOT --names A,B,C]

* docs/synthetic_pairs.png: synthetic (color, line) pairs as the generator draws them;
* docs/before_after.png: synthetic validation illustrations | OpenCV method | the
  model | the true line art;
* docs/real_art.png (with ``--real``): real illustrations of a dataset root (the
  README uses ``shared/data/red-panda-emotes``, CC BY 4.0) | OpenCV | the model |
  the artist's own line layer, each image extracted whole at its own size;
* docs/style_controls.png and docs/style_blacks.png (with ``--style-model``, a
  model with a style input, and ``--style-image``, a color image with its line
  layer as the pair layout has it): the image at line weight 0.5 / 1 / 2 (columns)
  x detail 1 / 0 (rows), then the color image | --blacks auto | ink | paint for it
  and for a synthetic pair with solid black areas; docs/style_contours.png (a
  model with the contours entry): synthetic anime frames no run trained on |
  --contours=drawn | --contours=all (both --tone=dark) | the generator's
  all-contours line art.

  python docs/make_figures.py --style-model=pretrained \
      --style-image=../shared/data/red-panda-emotes/color/pandaHug.png
"""

import argparse
import os

import lineart_jax  # noqa: F401
import cv2
import numpy as np

from lineart_jax import opencv_method
from lineart_jax.evaluation import gray_rgb
from lineart_jax.data.imageio import read_color, read_line, write_png
from lineart_jax.data.pairs import pairs_from_root
from lineart_jax.data.synthetic import make_pair
from lineart_jax.infer import NetworkExtractor
from lineart_jax.style import Style
from lineart_jax.trainer import VALIDATION_SEED_OFFSET

HERE = os.path.dirname(os.path.abspath(__file__))


def row(color, line, net, side=None):
  """color | OpenCV | model | truth, optionally shrunk to ``side`` px high."""
  r = np.concatenate([color, gray_rgb(opencv_method.extract_lines(color) / 255.0),
                      gray_rgb(net(color)), gray_rgb(line / 255.0)], axis=1)
  if side and r.shape[0] != side:
    r = cv2.resize(r, (round(r.shape[1] * side / r.shape[0]), side),
                   interpolation=cv2.INTER_AREA)
  return r


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--model", default="pretrained", help="'pretrained' or a workdir")
  p.add_argument("--size", type=int, default=256)
  p.add_argument("--real", help="dataset root of real pairs for docs/real_art.png")
  p.add_argument("--names", default="", help="comma-separated color file names of --real")
  p.add_argument("--style-model", help="a style model for the style figures (only those)")
  p.add_argument("--style-image", help="its color image (line layer: ../line/<same name>)")
  args = p.parse_args()
  if args.style_model:
    style_figures(args.style_model, args.style_image, args.size)
    return
  rows = []
  for i in range(0, 6, 2):
    pairs = [make_pair(0, i + k, args.size) for k in range(2)]
    rows.append(np.concatenate([x for c, l in pairs for x in (c, gray_rgb(l / 255.0))], axis=1))
  write_png(os.path.join(HERE, "synthetic_pairs.png"), np.concatenate(rows, axis=0))

  net = NetworkExtractor.from_weights(args.model)
  rows = [row(*make_pair(VALIDATION_SEED_OFFSET, i, args.size), net) for i in range(3)]
  write_png(os.path.join(HERE, "before_after.png"), np.concatenate(rows, axis=0))

  if args.real:
    wanted = [n for n in args.names.split(",") if n]
    pairs = [pr for pr in pairs_from_root(args.real)[0]
             if not wanted or os.path.basename(pr.color) in wanted]
    rows = [row(read_color(pr.color), read_line(pr.line), net, args.size) for pr in pairs]
    write_png(os.path.join(HERE, "real_art.png"), np.concatenate(rows, axis=0))


def shrink(img, side):
  return cv2.resize(img, (round(img.shape[1] * side / img.shape[0]), side),
                    interpolation=cv2.INTER_AREA)


def style_figures(model: str, image: str, side: int) -> None:
  """docs/style_controls.png and docs/style_blacks.png (see the module docstring)."""
  extractors = {}  # one per style: loading the weights and compiling, once each

  def draw(color, **options):
    style = Style(**options)
    if style not in extractors:
      extractors[style] = NetworkExtractor.from_weights(model, style=style)
    return gray_rgb(extractors[style](color))

  color = read_color(image)
  line = read_line(os.path.join(os.path.dirname(os.path.dirname(image)), "line",
                                os.path.basename(image)))
  rows = []
  for detail, first in ((1.0, color), (0.0, gray_rgb(line / 255.0))):
    rows.append(np.concatenate([shrink(x, side) for x in [first] + [
        draw(color, line_weight=w, detail=detail) for w in (0.5, 1.0, 2.0)]], axis=1))
  write_png(os.path.join(HERE, "style_controls.png"), np.concatenate(rows, axis=0))
  spots = next(c for c, _ in (make_pair(VALIDATION_SEED_OFFSET, i, 384) for i in range(200))
               if np.mean(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY) < 40) > 0.03)
  rows = [np.concatenate([shrink(x, side) for x in [c] + [
      draw(c, blacks=b) for b in ("auto", "ink", "paint")]], axis=1) for c in (color, spots)]
  write_png(os.path.join(HERE, "style_blacks.png"), np.concatenate(rows, axis=0))
  if NetworkExtractor.from_weights(model).style_dims < Style(contours="all").dims_needed:
    return  # a model made before the contours control
  rows = []
  for i in (1, 4, 6):
    c, truth = make_pair(VALIDATION_SEED_OFFSET, i, 384, style=Style(contours="all"), frames=1.0)
    rows.append(np.concatenate([shrink(x, side) for x in [c] + [
        draw(c, contours=k, tone="dark") for k in ("drawn", "all")] + [gray_rgb(truth / 255.0)]],
        axis=1))
  write_png(os.path.join(HERE, "style_contours.png"), np.concatenate(rows, axis=0))


if __name__ == "__main__":
  main()
