"""CLI: fit the last layer's output scale and shift on held-out synthetic pairs, or on given pairs.

  python -m lineart_jax.calibrate WEIGHTS --out DIR [--pairs 30 --size 384 --seed 2027]
      [--data ROOT | --data synthetic]

Which pairs: ``--data ROOT`` (a dataset root, manifest or packed folder: center
crops of ``--size``), else the training data of the run WEIGHTS comes from when
that run trained on real pairs (its ``config.json``: a model fine-tuned on an
artist's drawings is calibrated on them, not on synthetic pairs, which would undo
much of what it learnt), else synthetic pairs of ``--seed``.  It says which.

Why: the network ends in ReLU -> convolution -> sigmoid.  Training can leave
every weight of that last convolution non-negative (all 108 of the width-1/2
stage-2 model's are); then wherever all its inputs are zero, which is on ink,
the output is ``sigmoid(bias)``, a floor no ink goes below (0.34 there), and ink
gives the earlier layers no gradient to leave it by (their ReLUs are off).  That
model drew thick black lines and pupils 0.34-0.38 gray, on its own synthetic
data as on real art.

An affine map of the pre-sigmoid logit, ``z -> scale * z + shift``, is that last
convolution with its kernel times ``scale`` and its bias times ``scale`` plus
``shift``: the same network and file format.  ``fit`` chooses (scale, shift)
to minimise the training loss (the paper's loss map times the squared error) on
synthetic pairs drawn from a seed no training run uses; ``fold`` writes them into
the weights.  No real art is involved, so the dev sets stay a measurement.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)

LOGIT_LIMIT = 16.0  # |logit| beyond which float32 sigmoid is 0 or 1 anyway


def last_layer() -> str:
  from lineart_jax.model import LAYERS
  return LAYERS[-1][0]


def fold(variables: dict, scale: float, shift: float) -> dict:
  """``variables`` whose output is ``sigmoid(scale * z + shift)`` where it was
  ``sigmoid(z)``: the last layer's kernel scaled, its bias scaled and shifted."""
  name = last_layer()
  layer = dict(variables["params"][name])
  layer["kernel"] = np.asarray(layer["kernel"], np.float32) * np.float32(scale)
  layer["bias"] = np.asarray(layer["bias"], np.float32) * np.float32(scale) + np.float32(shift)
  return {**variables, "params": {**variables["params"], name: layer}}


def logits(lines: np.ndarray) -> np.ndarray:
  """The pre-sigmoid value of outputs in (0, 1), clipped where float32 saturates."""
  p = np.clip(np.asarray(lines, np.float64), 1e-7, 1.0 - 1e-7)
  return np.clip(np.log(p) - np.log1p(-p), -LOGIT_LIMIT, LOGIT_LIMIT).astype(np.float32)


def fit(z: np.ndarray, target: np.ndarray, steps: int = 400
        ) -> tuple[float, float, float, float]:
  """(scale, shift, loss before, loss after) minimising the mean of
  ``(M * (sigmoid(scale * z + shift) - target))^2`` over (N, H, W) logits ``z``,
  ``M`` the paper's loss map of ``target`` (``losses.loss_map``, at the paper's
  settings, as every recipe trains with)."""
  import jax
  import jax.numpy as jnp
  import optax
  from lineart_jax import losses

  z, target = jnp.asarray(z, jnp.float32), jnp.asarray(target, jnp.float32)
  weights = losses.loss_map(target)
  pixels = z.shape[-2] * z.shape[-1]

  def loss(theta):  # the training loss, per pixel
    out = jax.nn.sigmoid(theta[0] * z + theta[1])
    return losses.per_image_loss(out, target, weights).mean() / pixels

  optimizer = optax.adam(0.02)

  @jax.jit
  def run(theta):
    def step(carry, _):
      theta, opt_state = carry
      grads = jax.grad(loss)(theta)
      updates, opt_state = optimizer.update(grads, opt_state)
      return (optax.apply_updates(theta, updates), opt_state), None
    (theta, _), _ = jax.lax.scan(step, (theta, optimizer.init(theta)), None, length=steps)
    return theta

  identity = jnp.array([1.0, 0.0], jnp.float32)
  theta = run(identity)
  before, after = float(loss(identity)), float(loss(theta))
  if after > before * (1.0 - 1e-3):  # already calibrated: leave the weights as they are
    return 1.0, 0.0, before, before
  return float(theta[0]), float(theta[1]), before, after


def synthetic_logits(extractor, count: int, size: int, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
  """(logits, targets in [0, 1]) of ``count`` synthetic pairs of ``seed``."""
  from lineart_jax.data import synthetic
  zs, targets = [], []
  for i in range(count):
    color, line = synthetic.make_pair(seed, i, size)
    zs.append(logits(extractor(color)))
    targets.append(line.astype(np.float32) / 255.0)
  return np.stack(zs), np.stack(targets)


def pair_logits(extractor, root: str, count: int, size: int
                ) -> tuple[np.ndarray, np.ndarray]:
  """(logits, targets in [0, 1]) of center crops (``size``, paper-padded) of the
  first ``count`` pairs of ``root`` (root, manifest or packed folder) in the
  default line style: pairs of a styled set (``style.tsv``) drawn in another
  style are passed over, since the model draws the default style here."""
  from lineart_jax.data import pipeline
  source = pipeline.open_source(root, seed=0)
  zs, targets = [], []
  for i in range(len(source)):
    if len(zs) == count:
      break
    pair = source[i]
    if "style" in pair and np.any(pair["style"]):
      continue  # drawn in another line style: the fit is of the default style's output
    pair = pipeline.center_crop(pair, size)
    zs.append(logits(extractor(pair["color"])))
    line = pair["line"][..., 0] if pair["line"].ndim == 3 else pair["line"]
    targets.append(line.astype(np.float32) / 255.0)
  return np.stack(zs), np.stack(targets)


def run_config(weights: str) -> dict:
  """The ``config.json`` of the run ``weights`` comes from ({} for shipped weights)."""
  import json
  import os
  from lineart_jax.checkpointing import find_step_dir
  try:
    step_dir = find_step_dir(weights)
  except FileNotFoundError:
    return {}
  config = os.path.join(os.path.dirname(os.path.dirname(step_dir)), "config.json")
  if not os.path.isfile(config):
    return {}
  with open(config, encoding="utf-8") as f:
    return json.load(f)


def run_data(weights: str) -> str | None:
  """The real training data of the run ``weights`` comes from (its workdir's
  ``config.json`` ``data.root``), or None (shipped weights, synthetic data)."""
  import os
  root = run_config(weights).get("data", {}).get("root") or None
  return root if root and os.path.exists(root) else None


def inherited_calibration(weights: str) -> dict | None:
  """For a run that trained only its style layers (``train_only="style"``) from
  calibrated weights: that calibration, which the run's frozen last layer still
  holds.  Fitting again would change the default style, which such a run keeps
  exactly as its ``init_from`` by construction, and every style's output with it.
  (A run of the skips alone changes the default style: it is fitted anew.)"""
  config = run_config(weights)
  if config.get("train_only") != "style" or not config.get("init_from"):
    return None
  from lineart_jax import pretrained
  try:
    info = pretrained.load_weights_and_info(config["init_from"])[2]
  except (FileNotFoundError, ValueError):
    return None
  if "calibration" not in info:
    return None
  return {**info["calibration"], "inherited_from": config["init_from"],
          "why": f"train_only={config['train_only']!r}: the network outside the style "
                 "layers, its calibrated last layer included, is init_from's"}


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("weights", help="'pretrained', a training workdir or checkpoint folder, "
                 "or a folder of weights in the shipped format")
  p.add_argument("--out", required=True, help="folder for the calibrated weights "
                 "(the shipped format; the package's own is lineart_jax/pretrained)")
  p.add_argument("--data", default=None, help="pairs to fit on: a dataset root, manifest or "
                 "packed folder, or 'synthetic' (default: the run's own training data when "
                 "it trained on real pairs, else synthetic)")
  p.add_argument("--pairs", type=int, default=30, help="pairs to fit on (at most)")
  p.add_argument("--size", type=int, default=384, help="their side in pixels (center crops "
                 "of given pairs)")
  p.add_argument("--seed", type=int, default=2027,
                 help="their seed: one no training run of the recipes uses")
  p.add_argument("--command", default=None, help="the command that made the weights "
                 "(default: the input's own, for shipped-format input)")
  p.add_argument("--notes", default=None, help="scores, data, cost (default: the input's own)")
  args = p.parse_args(argv)

  from lineart_jax import pretrained
  from lineart_jax.infer import NetworkExtractor
  try:
    model, variables, info, what = pretrained.load_weights_and_info(args.weights)
  except (FileNotFoundError, ValueError) as e:
    sys.exit(f"error: {e}")
  if "calibration" in info:
    sys.exit(f"error: {what} is already calibrated ({info['calibration']}); "
             "calibrate the uncalibrated weights")
  info = {k: v for k, v in info.items() if k != "model"}
  command = args.command if args.command is not None else info.get("command", "")
  cli = f"python -m lineart_jax.calibrate {args.weights} --out {args.out}"
  if args.notes is not None:
    info["notes"] = args.notes
  inherited = inherited_calibration(args.weights)
  if inherited is not None:
    print(f"{what} trained only its style layers from {inherited['inherited_from']}, whose "
          f"calibration (scale {inherited['scale']:.4f}, shift {inherited['shift']:+.4f}) its "
          "last layer holds: written as it is, not fitted again")
    info.update(calibration=inherited, command=f"{command} && {cli}" if command else cli)
    pretrained.save(model, variables, info, args.out)
    print(f"wrote weights to {args.out}")
    return 0
  extractor = NetworkExtractor(model, variables)
  data = args.data if args.data is not None else (run_data(args.weights) or "synthetic")
  if data == "synthetic":
    print(f"calibrating {what} on {args.pairs} synthetic pairs of {args.size} px, "
          f"seed {args.seed}")
    z, target = synthetic_logits(extractor, args.pairs, args.size, args.seed)
  else:
    origin = "" if args.data is not None else " (the run's own training data)"
    print(f"calibrating {what} on up to {args.pairs} pairs of {data}{origin}, "
          f"{args.size} px center crops")
    try:
      z, target = pair_logits(extractor, data, args.pairs, args.size)
    except (FileNotFoundError, ValueError) as e:
      sys.exit(f"error: {e}")
  scale, shift, before, after = fit(z, target)
  darkest = lambda a, b: 1.0 / (1.0 + np.exp(-(a * z.min() + b)))
  kept = " (no gain: weights kept as they are)" if (scale, shift) == (1.0, 0.0) else ""
  print(f"scale {scale:.4f}, shift {shift:+.4f}: training loss {before:.6f} -> {after:.6f}; "
        f"darkest output {darkest(1.0, 0.0):.3f} -> {darkest(scale, shift):.3f}{kept}")
  calibration = {"scale": scale, "shift": shift, "data": data, "pairs": int(len(z)),
                 "size": args.size, "loss_before": before, "loss_after": after}
  if data == "synthetic":
    calibration["seed"] = args.seed
  cli += f" --data {data} --pairs {args.pairs} --size {args.size} --seed {args.seed}"
  info.update(calibration=calibration, command=f"{command} && {cli}" if command else cli)
  pretrained.save(model, fold(variables, scale, shift), info, args.out)
  print(f"wrote calibrated weights to {args.out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
