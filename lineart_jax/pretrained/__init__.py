"""The shipped model: trained weights in the package, and loading any weights.

``lineart.msgpack`` holds ``{'params', 'batch_stats'}`` serialized with
``flax.serialization`` (msgpack: no pickle, so loading runs no code);
``lineart.json`` holds the model config, the training step, the exact command
that reproduced the weights and their scores.  ``load_weights`` is the one entry
point for inference, evaluation and fine-tuning: the shipped weights
(``"pretrained"``) or a training workdir / checkpoint folder.

Write new shipped weights from a finished run with
``python -m lineart_jax.pretrained WORKDIR --command "..."`` (several workdirs:
their average, a model soup), then calibrate them
(``python -m lineart_jax.calibrate pretrained --out lineart_jax/pretrained``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # model imports jax and flax: loaded when weights are, not on import
  from lineart_jax.model import ModelConfig

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS_FILE, INFO_FILE = "lineart.msgpack", "lineart.json"  # in any weights folder
WEIGHTS = os.path.join(HERE, WEIGHTS_FILE)
INFO = os.path.join(HERE, INFO_FILE)
PRETRAINED = "pretrained"


def available(folder: str = HERE) -> bool:
  """Whether ``folder`` holds weights in the shipped format (``save``'s output)."""
  return all(os.path.isfile(os.path.join(folder, name)) for name in (WEIGHTS_FILE, INFO_FILE))


def load(folder: str = HERE) -> tuple[ModelConfig, dict, dict]:
  """(model config, {'params', 'batch_stats'} as numpy, info) of the shipped model,
  or of weights written in its format to ``folder``.  ``info`` is ``lineart.json``
  as written (its ``model`` the on-disk dict); the config is read from it here, once."""
  from flax import serialization
  from lineart_jax.model import ModelConfig
  if not available(folder):
    raise FileNotFoundError(f"no shipped weights in {folder} (lineart.msgpack, lineart.json): "
                            "reinstall lineart_jax or pass --workdir/--checkpoint")
  with open(os.path.join(folder, INFO_FILE), encoding="utf-8") as f:
    info = json.load(f)
  with open(os.path.join(folder, WEIGHTS_FILE), "rb") as f:
    variables = serialization.msgpack_restore(f.read())
  try:
    model = ModelConfig.from_dict(info["model"])
  except (KeyError, TypeError, ValueError) as e:
    raise ValueError(f"{os.path.join(folder, INFO_FILE)}: no valid model config ({e})") from e
  return model, variables, info


def load_weights(spec: str) -> tuple[ModelConfig, dict, str]:
  """(model config, variables, description) from ``"pretrained"`` or a path.

  A path is a training workdir, its ``checkpoints`` folder or a step folder,
  written by any number of devices or processes, or a folder of weights in the
  shipped format (``python -m lineart_jax.pretrained RUN --out FOLDER``).
  """
  model, variables, _, what = load_weights_and_info(spec)
  return model, variables, what


def load_weights_and_info(spec: str) -> tuple[ModelConfig, dict, dict, str]:
  """``load_weights`` plus the weights' info: a shipped-format folder's
  ``lineart.json``, or ``{'step': N}`` for a checkpoint."""
  if spec == PRETRAINED or available(spec):
    model, variables, info = load(HERE if spec == PRETRAINED else spec)
    where = ("the shipped model (lineart_jax/pretrained" if spec == PRETRAINED
             else f"weights ({spec}")
    return (model, variables, info, f"{where}, {model.describe()}, step {info.get('step')})")
  from lineart_jax.checkpointing import find_step_dir, load_variables
  model, variables, step = load_variables(spec)
  return model, variables, {"step": step}, f"checkpoint {find_step_dir(spec)} (step {step})"


def save(model: ModelConfig, variables: dict, info: dict, out: str = HERE) -> None:
  """Writes ``variables`` and ``info`` (``model.to_dict()`` added as its ``model``) as
  shipped weights."""
  from flax import serialization
  import jax
  record = {"model": model.to_dict(), **info}  # before any file: a bad ``model`` writes none
  os.makedirs(out, exist_ok=True)
  host = jax.tree.map(lambda a: np.asarray(a, np.float32), variables)
  with open(os.path.join(out, WEIGHTS_FILE), "wb") as f:
    f.write(serialization.msgpack_serialize(
        {"params": host["params"], "batch_stats": host["batch_stats"]}))
  with open(os.path.join(out, INFO_FILE), "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
    f.write("\n")


def average(runs: list[tuple[str, ModelConfig, dict]]) -> dict:
  """The uniform average of several runs' variables, BatchNorm statistics too.

  A "model soup" (Wortsman et al. 2022): fine-tunes of one model on different
  data stay in one basin, and their average can beat each.  Measured: two
  stage-3 fine-tunes whose data differed (lines thickened in the color image or
  not) averaged to better than either on both dev sets; runs whose data differed
  less gained nothing.
  ``runs``: (name, model config, variables); all must be the same network.
  """
  import jax
  name0, model0, variables0 = runs[0]
  structure = jax.tree.structure(variables0)
  for name, model, variables in runs[1:]:
    if model != model0 or jax.tree.structure(variables) != structure:
      raise ValueError(f"cannot average {name} with {name0}: different networks "
                       f"({model.to_dict()} and {model0.to_dict()})")
  return jax.tree.map(lambda *a: np.mean([np.asarray(x, np.float64) for x in a], 0)
                      .astype(np.float32), *[v for _, _, v in runs])


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description="Write a run's weights as the shipped model, "
                              "or several runs' average (a model soup).")
  p.add_argument("checkpoint", nargs="+",
                 help="training workdir or checkpoint folder; several: their average")
  p.add_argument("--out", default=HERE, help="folder (default: the package's)")
  p.add_argument("--command", default="", help="the command that trained it")
  p.add_argument("--notes", default="", help="scores, data, cost")
  args = p.parse_args(argv)
  from lineart_jax.checkpointing import load_variables
  runs, steps = [], []
  for path in args.checkpoint:
    model, variables, step = load_variables(path)
    runs.append((path, model, variables))
    steps.append(step)
  try:
    variables = average(runs) if len(runs) > 1 else runs[0][2]
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  step = steps[0] if len(steps) == 1 else steps
  save(runs[0][1], variables, {"step": step, "command": args.command, "notes": args.notes},
       args.out)
  size = os.path.getsize(os.path.join(args.out, WEIGHTS_FILE)) / 2**20
  what = (f"step {step} of {args.checkpoint[0]}" if len(runs) == 1 else
          "the average of " + ", ".join(f"step {s} of {c}" for s, c in zip(steps, args.checkpoint)))
  print(f"wrote {what} to {args.out} ({size:.1f} MiB)")
  return 0
