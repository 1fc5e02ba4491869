"""Entry point: ``python -m lineart_jax.train --config=configs/base.py [--workdir=DIR]``.

Config fields are overridden with ``--config.<field>=<value>`` (the config is
locked: unknown fields and wrong types are rejected).  The workdir defaults to
``workdirs/<config name>``; running again with the same workdir resumes.
"""

import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file (configs/*.py).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Checkpoints, logs, metrics.jsonl, eval images, "
                    "config.json (default: workdirs/<config name>).")
flags.mark_flags_as_required(["config"])


def default_workdir(config_path: str) -> str:
  name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
  return os.path.join("workdirs", name)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from lineart_jax import _malloc
  if _malloc.keep_freed_memory():  # before JAX starts its threads
    logging.info("malloc: freed step buffers are kept for reuse (lineart_jax/_malloc.py)")
  from lineart_jax.metrics import quiet_library_logs
  quiet_library_logs()
  from lineart_jax import distributed
  if distributed.initialize_from_env():  # before anything touches devices
    import jax
    if jax.process_index() != 0:
      logging.set_verbosity(logging.WARNING)  # one console log, from process 0
  from lineart_jax import trainer
  workdir = FLAGS.workdir or default_workdir(config_flags.get_config_filename(FLAGS["config"]))
  logging.info("workdir: %s", os.path.abspath(workdir))
  try:
    trainer.train_and_evaluate(FLAGS.config, workdir)
  except (trainer.NonFiniteLossError, trainer.IncompatibleCheckpointError,
          trainer.UnreadableCheckpointError, trainer.CheckpointSaveError,
          trainer.WorkdirLockedError, FileNotFoundError) as e:
    logging.error("%s", e)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
