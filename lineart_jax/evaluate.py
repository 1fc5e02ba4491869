"""CLI: score a trained model against the OpenCV method, side by side.

  python -m lineart_jax.evaluate --workdir=DIR [--data=ROOT] [--count=N]

Without ``--data`` it uses the run's own validation split (config.json in the
workdir); with it, center crops of up to ``--count`` pairs of ROOT (a packed
folder, dataset root or manifest).
"""

import functools
import json
import os

from absl import app, flags

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)

flags.DEFINE_string("workdir", None, "Training workdir (or a checkpoint folder with --data).")
flags.DEFINE_string("data", None, "Evaluate on these pairs instead of the validation split.")
flags.DEFINE_integer("count", 64, "Pairs to evaluate with --data.")
flags.DEFINE_integer("size", 256, "Center-crop side with --data.")
flags.mark_flag_as_required("workdir")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  import jax
  import ml_collections
  from lineart_jax import evaluation
  from lineart_jax.checkpointing import load_variables
  from lineart_jax.data import pipeline
  from lineart_jax.model import AutoEncoder, predict_lines
  from lineart_jax.trainer import data_sources

  model_cfg, variables, step = load_variables(FLAGS.workdir)
  model = AutoEncoder(width=model_cfg["width"])
  if FLAGS.data:
    source = pipeline.open_source(FLAGS.data, seed=0)
    pairs = [pipeline.center_crop(source[i], FLAGS.size)
             for i in range(min(FLAGS.count, len(source)))]
  else:
    with open(os.path.join(FLAGS.workdir, "config.json")) as f:
      config = ml_collections.ConfigDict(json.load(f))
    pairs = data_sources(config)[2]
  apply = jax.jit(functools.partial(predict_lines, model))
  scores, _ = evaluation.compare_with_opencv(lambda c: apply(variables, c), pairs)
  print(f"checkpoint step {step}, {len(pairs)} pairs "
        f"({FLAGS.data or 'validation split'}):")
  print(evaluation.format_comparison(scores))


if __name__ == "__main__":
  app.run(main)
