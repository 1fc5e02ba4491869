"""CLI: score a model against the OpenCV method and a grayscale threshold, side by side.

  python -m lineart_jax.evaluate --data=ROOT [--workdir=DIR | --checkpoint=PATH | --pretrained]
      [--max-side=1024] [--tolerance=2] [--panels=DIR] [--csv=FILE]
      [--line-weight=1 --detail=1 --tone=drawn|dark --blacks=auto|ink|paint]
  python -m lineart_jax.evaluate --workdir=DIR          # the run's own validation split

With ``--data`` every pair of ROOT (a dataset root, manifest or packed folder)
is scored as a whole image at its own size, through the same tiled inference
as ``infer`` (images longer than ``--max-side`` are extracted at that size and
upscaled, as ``infer --max-side`` does).  The F-score threshold is chosen per
method over the whole set; ``--tolerance`` is the distance within which ink
counts as found (2 px, the F@2 every figure in docs/ uses; 0 and 1 px show
whether a line is drawn whole or as dots a few px apart).  ``--panels`` writes
color | model | OpenCV | truth per image; ``--csv`` the per-image scores.  The line-style flags are ``infer``'s
(a model with a style input draws every image in that style).  Without ``--data`` it scores the
validation crops the run was evaluated on during training.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
from lineart_jax import style as style_lib


def define_flags() -> None:
  """The command line's flags, defined when it runs as a program (``__main__``),
  not on import: absl flags are global, so two modules defining ``--workdir``
  at import could not be imported into one process (evaluate and export).
  """
  flags.DEFINE_string("workdir", None, "Training workdir (its latest checkpoint).")
  flags.DEFINE_string("checkpoint", None, "A checkpoint step folder, checkpoints/ folder, or a "
                      "folder of weights in the shipped format (lineart_jax.pretrained or "
                      "lineart_jax.calibrate --out).")
  flags.DEFINE_bool("pretrained", False, "Score the shipped model (default without "
                    "--workdir/--checkpoint).")
  flags.DEFINE_string("data", None, "Score whole images of these pairs (root, manifest or "
                      "packed folder) instead of the run's validation split.")
  flags.DEFINE_integer("max_side", 1024, "Extract at most at this long side, then upscale.")
  flags.DEFINE_integer("tolerance", 2, "F-score: ink counts as found within this many px.",
                       lower_bound=0)
  flags.DEFINE_integer("count", 0, "Score only the first N pairs of --data (0 = all).")
  flags.DEFINE_string("panels", None, "Folder for color | model | OpenCV | truth images.")
  flags.DEFINE_string("csv", None, "File for per-image scores.")
  flags.DEFINE_integer("tile", 768, "Tile side for inference (multiple of 8).")
  style_lib.define_absl_flags(flags)

FLAGS = flags.FLAGS


def load_pairs(root: str, count: int = 0):
  """(names, pairs) of a dataset root, manifest or packed folder, decoded whole."""
  from lineart_jax.data import pipeline
  source = pipeline.open_source(root, seed=0)
  n = len(source) if not count else min(count, len(source))
  names = [source.name(i) for i in range(n)]
  return names, (source[i] for i in range(n))


def main(argv):
  del argv
  from lineart_jax import evaluation
  from lineart_jax.infer import NetworkExtractor
  from lineart_jax.pretrained import PRETRAINED

  if FLAGS.workdir and FLAGS.checkpoint:
    sys.exit("error: give --workdir or --checkpoint, not both")
  spec = FLAGS.workdir or FLAGS.checkpoint or PRETRAINED
  if not FLAGS.data:
    if not FLAGS.workdir:
      sys.exit("error: without --data, --workdir is required (its validation split)")
    return evaluate_validation_split(FLAGS.workdir, FLAGS.tolerance)
  try:
    extractor = NetworkExtractor.from_weights(spec, tile=FLAGS.tile,
                                              style=style_lib.from_absl_flags(FLAGS))
  except (FileNotFoundError, ValueError) as e:
    sys.exit(f"error: {e}")
  names, pairs = load_pairs(FLAGS.data, FLAGS.count)
  scores = evaluation.score_images(extractor, pairs, names, FLAGS.max_side or None,
                                   FLAGS.panels, FLAGS.csv, tolerance=FLAGS.tolerance)
  print(f"model: {extractor.description}")
  print(f"{len(names)} pairs of {FLAGS.data}, whole images (max side {FLAGS.max_side}):")
  print(evaluation.format_comparison(scores, FLAGS.tolerance))


def evaluate_validation_split(workdir: str, tolerance: int) -> None:
  import functools
  import jax
  import ml_collections
  from lineart_jax import evaluation
  from lineart_jax.model import from_config, predict_lines
  from lineart_jax.pretrained import load_weights
  from lineart_jax.trainer import data_sources

  model_cfg, variables, what = load_weights(workdir)
  with open(os.path.join(workdir, "config.json")) as f:
    config = ml_collections.ConfigDict(json.load(f))
  pairs = data_sources(config)[2]
  apply = jax.jit(functools.partial(predict_lines, from_config(model_cfg)))
  scores, _ = evaluation.compare_with_opencv(lambda c, s=None: apply(variables, c, s), pairs,
                                             tolerance=tolerance)
  print(f"model: {what}; {len(pairs)} validation pairs:")
  print(evaluation.format_comparison(scores, tolerance))


if __name__ == "__main__":
  define_flags()
  app.run(main)
