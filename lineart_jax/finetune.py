"""CLI: teach the shipped model your own line style, from your own drawings, in minutes.

  python -m lineart_jax.finetune SRC... --out DIR [--init pretrained|WEIGHTS]
      [--steps 300 | --minutes M] [--holdout 0.25] [--seed 0] [style flags]

SRC: layered files (``.ora``, ``.kra``, ``.psd``: their line layers are the truth,
see ``lineart_jax.data.layers``), folders of them, or pair folders (``color/`` and
``line/`` images of the same names).  One command does what the README's manual
path does, plus what it left out:

1. pairs: every source becomes ``DIR/pairs/{color,line}/<name>.png``; unusable
   files are reported in one line each and skipped;
2. ``validate`` (misaligned or resized pairs are fixed where they can be);
3. a held-out part for testing, split **by drawing**: pairs whose names differ
   only in trailing digits, or whose line art looks alike (48x48 thumbnails
   correlate above 0.6, mirrored too: emotes reuse one body drawing), go to the
   same side, so the test measures drawings the model has not seen;
4. ``prepare`` and a fine-tune from the shipped model (or ``--init``): its width
   and options, batch 12, Adam 1e-4 constant, 300 steps (about 5 minutes on 2 CPU
   cores at width 1/2) or ``--minutes``;
5. ``calibrate`` on the user's own training pairs (calibrating on synthetic pairs
   undid most of what the fine-tune learnt: 23.2 dB -> 18.6 dB on the red-panda
   emotes);
6. ``DIR/weights`` in the shipped format (``--checkpoint=DIR/weights`` in infer,
   evaluate and export) and ``DIR/report.md`` + ``DIR/report.png``: F@2 and PSNR
   before and after on the held-out drawings, and on synthetic validation pairs
   (what the model gave up on other art), with panels color | before | after | truth.

The line-style flags (``--line-weight --detail --tone --blacks --contours``, as in
``infer``) say which style the artist's line art is drawn in (default: the
default style).  The fine-tuned model keeps its init's style input, so every
control still works on it; the artist's pairs teach the style they are in: line
art that draws every flat-color boundary is ``--contours=all``, and then the
default style is left as the init draws it and calibrated on synthetic pairs
(the artist's pairs do not show it).  A style the init cannot draw grows it:
``--contours=all`` on weights made before that control adds its style entry.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import sys
import time
from typing import TYPE_CHECKING

import cv2
import numpy as np

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
from lineart_jax.data import layers
from lineart_jax.data.imageio import ImageError, read_color, write_png
from lineart_jax.data.pairs import Pair, pairs_from_root
from lineart_jax import style as style_lib
from lineart_jax.style import Style

if TYPE_CHECKING:  # annotations only: model imports jax and flax, which this module defers
  from lineart_jax.model import ModelConfig

DEFAULT_STEPS = 300
BATCH = 12
LEARNING_RATE = 1e-4
SIMILAR = 0.6          # thumbnail correlation above which two drawings are one
SYNTHETIC_PAIRS = 12   # synthetic validation pairs in the report
SYNTHETIC_SIZE = 384


class FinetuneError(ValueError):
  """Nothing to fine-tune on, or too little to hold a part out; says what was found."""


# -- 1. pairs -------------------------------------------------------------------
def collect_pairs(sources: list[str], out: str, line_layers: str = layers.DEFAULT_LINE_LAYERS
                  ) -> tuple[int, list[str]]:
  """Writes every pair of ``sources`` into ``out/{color,line}``: (pairs, skip lines)."""
  made, skipped, names = 0, [], set()

  def unique(name: str) -> str:
    base, n = name, 2
    while name in names:
      name, n = f"{base}_{n}", n + 1
    names.add(name)
    return name

  for src in sources:
    if os.path.isdir(src) and os.path.isdir(os.path.join(src, "color")):
      pairs, unpaired = pairs_from_root(src)
      skipped += [f"{p}: no partner of the same name" for p in unpaired]
      for pair in pairs:
        name = unique(os.path.splitext(os.path.basename(pair.color))[0])
        for side, path in (("color", pair.color), ("line", pair.line)):
          dst = os.path.join(out, side, name + os.path.splitext(path)[1].lower())
          os.makedirs(os.path.dirname(dst), exist_ok=True)
          shutil.copyfile(path, dst)
        made += 1
      continue
    files = layers.find_files([src])
    if not files and os.path.isdir(src):
      skipped.append(f"{src}: no layered files (.ora, .kra, .psd) and no color/ + line/ folders")
    skipped += [f"{path}: no such file" for path in files if not os.path.isfile(path)]
    n, errors = layers.convert([f for f in files if os.path.isfile(f)], out, line_layers,
                               name=lambda path: unique(os.path.splitext(
                                   os.path.basename(path))[0]))
    made, skipped = made + n, skipped + errors
  return made, skipped


# -- 3. held-out drawings -------------------------------------------------------
def _name_stem(path: str) -> str:
  return re.sub(r"[\s_\-.]*\d+$", "", os.path.splitext(os.path.basename(path))[0]).lower()


def _thumbnail(path: str) -> np.ndarray:
  gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
  if gray is None:
    raise ImageError(f"{path}: not a decodable image")
  ink = cv2.resize(255 - gray, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
  ink = cv2.GaussianBlur(ink, (0, 0), 1.5)
  ink -= ink.mean()
  return ink / (np.linalg.norm(ink) + 1e-6)


def drawing_groups(pairs: list[Pair], similar: float = SIMILAR) -> list[list[int]]:
  """Indices of ``pairs`` grouped by drawing: same name but for trailing digits,
  or line art alike (thumbnail correlation above ``similar``, mirror included)."""
  n = len(pairs)
  parent = list(range(n))

  def find(i):
    while parent[i] != i:
      parent[i] = parent[parent[i]]
      i = parent[i]
    return i

  thumbs = [_thumbnail(p.line) for p in pairs]
  stems = [_name_stem(p.color) for p in pairs]
  for i in range(n):
    for j in range(i + 1, n):
      alike = max(float((thumbs[i] * thumbs[j]).sum()),
                  float((thumbs[i] * thumbs[j][:, ::-1]).sum()))
      if stems[i] == stems[j] or alike > similar:
        parent[find(i)] = find(j)
  groups: dict[int, list[int]] = {}
  for i in range(n):
    groups.setdefault(find(i), []).append(i)
  return sorted(groups.values(), key=lambda g: g[0])


def split_by_drawing(pairs: list[Pair], fraction: float, seed: int, minimum: int = 3
                     ) -> tuple[list[int], list[int], list[list[int]]]:
  """(train indices, held-out indices, groups): whole drawing groups are held out,
  in a seeded order, until ``fraction`` of the pairs (at least ``minimum``); a
  group that would take the held-out part past 1.25x that goal is passed over."""
  groups = drawing_groups(pairs)
  if len(groups) < 2:
    raise FinetuneError(f"all {len(pairs)} pairs look like one drawing: nothing can be held "
                        "out to test on; add other drawings")
  goal = max(minimum, round(fraction * len(pairs)))
  room = max(goal, round(1.25 * goal))
  order = [int(g) for g in np.random.default_rng(seed).permutation(len(groups))]
  held: list[int] = []
  for g in order:  # whole drawings, in a seeded order, while they fit
    if len(held) < goal and len(held) + len(groups[g]) <= room:
      held += groups[g]
  for g in sorted(order, key=lambda g: len(groups[g])):  # still short: the smallest
    if len(held) < minimum and groups[g][0] not in held:
      held += groups[g]
  if len(held) >= len(pairs):
    raise FinetuneError(f"{len(pairs)} pairs in {len(groups)} drawings: too few to hold "
                        f"{goal} out and train on the rest")
  held_set = set(held)
  train = [i for i in range(len(pairs)) if i not in held_set]
  return train, sorted(held), groups


# -- 4. training ----------------------------------------------------------------
def training_config(init: str, packed: str, model_cfg: ModelConfig, steps: int,
                    minutes: float, seed: int, workers: int, style: Style = Style()):
  """configs/base.py with the fine-tune's settings (the model's options from the weights'
  ``model_cfg``; its style input, with the entries ``style`` needs)."""
  from lineart_jax import config_files
  base = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "configs", "base.py")
  if not os.path.isfile(base):
    raise FinetuneError(f"{base} not found: run from a checkout of the repository "
                        "(pip install -e .)")
  config = config_files.sibling(base, "base").get_config()
  config.init_from = init
  config.model.width = model_cfg.width
  config.model.arch = model_cfg.arch
  config.model.edges = model_cfg.edges
  if model_cfg.style_dims:
    config.model.style_dims = max(model_cfg.style_dims, style.dims_needed)
    config.model.style_input = model_cfg.style_input
  config.data.root = os.path.abspath(packed)
  config.data.workers = workers
  config.data.val_count = 0           # the held-out drawings are the test
  config.num_steps = steps
  config.max_minutes = minutes
  config.global_batch = BATCH
  config.optimizer.learning_rate = LEARNING_RATE
  config.seed = seed
  config.log_every = 25
  config.eval_every = 0
  config.checkpoint_every = 100
  config.keep_checkpoints = 1
  return config


# -- 6. report ------------------------------------------------------------------
def _predict(extractor, pairs: list[dict], style: Style = Style()) -> list[np.ndarray]:
  """Whole-image line art in ``style``, as ``evaluate --data`` extracts it (max
  side 1024)."""
  from lineart_jax.extractors import extract_many
  return [extract_many([pair["color"]], extractor, style, 1024)[0] for pair in pairs]


def _panel_rows(pairs, before, after, height: int = 192) -> np.ndarray:
  """color | before | after | truth per pair (predictions given), ``height`` px rows."""
  from lineart_jax.evaluation import gray_rgb
  rows = []
  for pair, pred_before, pred_after in zip(pairs, before, after):
    color = pair["color"]
    cells = [color, gray_rgb(pred_before), gray_rgb(pred_after),
             gray_rgb(pair["line"].astype(np.float32) / 255.0)]
    scale = height / color.shape[0]
    size = (max(1, round(color.shape[1] * scale)), height)
    rows.append(np.concatenate([cv2.resize(c, size, interpolation=cv2.INTER_AREA)
                                for c in cells], axis=1))
  width = max(r.shape[1] for r in rows)
  rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
          for r in rows]
  return np.concatenate(rows, axis=0)


def report(out: str, init: str, weights: str, held_pairs: list[Pair], summary: dict,
           synthetic_pairs: int = SYNTHETIC_PAIRS, style: Style = Style()) -> dict:
  """Scores before/after on the held-out drawings (in ``style``, the artist's;
  before in the default style where the init cannot draw it) and on synthetic
  validation pairs (default style); writes ``report.md``, ``report.json`` and
  ``report.png``.  Each model extracts each image once; the scores and the
  panels share those predictions."""
  from lineart_jax.data.imageio import read_line
  from lineart_jax.data.synthetic import make_pair
  from lineart_jax.evaluation import BASELINES, score
  from lineart_jax.infer import NetworkExtractor
  from lineart_jax.trainer import VALIDATION_SEED_OFFSET

  # each model loaded and compiled once; the style is an input of its program
  extractors = {"before": NetworkExtractor.from_weights(init),
                "after": NetworkExtractor.from_weights(weights)}
  init_dims = extractors["before"].style_dims
  styles = {"before": style if init_dims >= style.dims_needed or style.is_default else Style(),
            "after": style}
  names = [os.path.basename(p.color) for p in held_pairs]
  held = [{"color": read_color(p.color), "line": read_line(p.line)} for p in held_pairs]
  synthetic = []
  for i in range(synthetic_pairs):
    color, line = make_pair(VALIDATION_SEED_OFFSET, i, SYNTHETIC_SIZE)
    synthetic.append({"color": color, "line": line})
  targets = {part: [p["line"].astype(np.float32) / 255.0 for p in pairs]
             for part, pairs in (("held_out", held), ("synthetic", synthetic))}
  preds = {"held_out": {when: _predict(e, held, styles[when]) for when, e in extractors.items()},
           "synthetic": {when: _predict(e, synthetic) for when, e in extractors.items()}}
  scores = {part: {when: score(preds[part][when], targets[part]) for when in extractors}
            for part in preds}
  opencv = score([BASELINES["opencv"](p["color"]) for p in held], targets["held_out"])
  write_png(os.path.join(out, "report.png"),
            _panel_rows(held, preds["held_out"]["before"], preds["held_out"]["after"]))
  with open(os.path.join(out, "report.json"), "w", encoding="utf-8") as f:
    json.dump({**summary, "scores": scores, "opencv_held_out": opencv}, f, indent=2)
    f.write("\n")

  def row(label, s):
    return f"| {label} | {s['f_score']:.3f} | {s['psnr']:.2f} dB |"

  h, syn = scores["held_out"], scores["synthetic"]
  lines = [
      "# Fine-tune report", "",
      f"Fine-tuned {summary['init']} on {summary['train_pairs']} pairs for "
      f"{summary['steps']} steps of {BATCH} ({summary['train_minutes']:.1f} min), calibrated "
      f"on those pairs. Weights: `{weights}` (`--checkpoint={weights}`).", "",
      f"## Held-out drawings ({len(held_pairs)} pairs, never trained on)", "",
      "| weights | F@2 | PSNR |", "|---|---|---|",
      row("before (" + summary["init"] + ")", h["before"]), row("after", h["after"]),
      row("OpenCV method", opencv), "",
      f"Change: F@2 {h['after']['f_score'] - h['before']['f_score']:+.3f}, "
      f"PSNR {h['after']['psnr'] - h['before']['psnr']:+.2f} dB.", "",
      f"## Synthetic validation pairs ({synthetic_pairs}, {SYNTHETIC_SIZE} px): what the model "
      "gave up on other art", "",
      "| weights | F@2 | PSNR |", "|---|---|---|",
      row("before", syn["before"]), row("after", syn["after"]), "",
      "`report.png`: each held-out drawing as color | before | after | truth.", "",
      "Held out: " + ", ".join(names), "",
  ]
  with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines))
  return scores


# -- the command ------------------------------------------------------------------
def run(sources: list[str], out: str, init: str = "pretrained", steps: int = DEFAULT_STEPS,
        minutes: float = 0.0, holdout: float = 0.25, seed: int = 0, workers: int = 2,
        line_layers: str = layers.DEFAULT_LINE_LAYERS, synthetic_pairs: int = SYNTHETIC_PAIRS,
        log=print, style: Style = Style()) -> dict:
  """The whole command; returns the report's scores.  Raises ``FinetuneError``.
  ``style``: the line style the artist's line art is drawn in."""
  from lineart_jax import calibrate, pretrained, trainer
  from lineart_jax.data import validate
  from lineart_jax.data.packed import pack
  from lineart_jax.data.pairs import read_manifest, write_manifest

  out = os.path.abspath(out)
  model_cfg, _, init_what = pretrained.load_weights(init)
  if not style.is_default and not model_cfg.style_dims:
    style_lib.check_model(style, model_cfg.style_dims, init_what)  # before any work: says why
  pairs_root = os.path.join(out, "pairs")
  if os.path.exists(pairs_root):
    shutil.rmtree(pairs_root)  # made again from the sources: a rerun sees their changes
  made, skipped = collect_pairs(sources, pairs_root, line_layers)
  for line in skipped:
    log(f"skipped: {line}")
  if not made:
    raise FinetuneError(f"no pairs in {' '.join(sources)} ({len(skipped)} skipped)")
  results = validate.validate(pairs_root, os.path.join(out, "validated"), fix=True,
                              show_progress=False)
  for r in results:
    if r.status not in validate.USABLE and "[fixed]" not in r.detail:
      log(f"skipped: {r.pair.color or r.pair.line}: {r.status}: {r.detail}")
  clean = read_manifest(os.path.join(out, "validated", "manifest.tsv"))
  log(f"{made} pairs made, {len(clean)} usable after validate")
  if len(clean) < 4:
    raise FinetuneError(f"{len(clean)} usable pairs: at least 4 are needed (some to train "
                        "on, some drawings to test on)")

  train_idx, held_idx, groups = split_by_drawing(clean, holdout, seed)
  train, held = [clean[i] for i in train_idx], [clean[i] for i in held_idx]
  write_manifest(os.path.join(out, "train.tsv"), train)
  write_manifest(os.path.join(out, "held_out.tsv"), held)
  log(f"{len(clean)} pairs in {len(groups)} drawings: {len(train)} to train on, {len(held)} "
      f"held out for testing ({', '.join(os.path.basename(p.color) for p in held)})")

  packed = os.path.join(out, "packed")
  shutil.rmtree(packed, ignore_errors=True)
  n, errors = pack([p if style.is_default else dataclasses.replace(p, style=style)
                    for p in train], packed)
  for e in errors:
    log(f"skipped: {e}")

  config = training_config(init, packed, model_cfg, steps, minutes, seed, workers, style)
  workdir = os.path.join(out, "run")
  shutil.rmtree(workdir, ignore_errors=True)  # a fine-tune starts from --init, not a resume
  log(f"fine-tuning {init_what} on {n} pairs"
      + ("" if style.is_default else f" drawn in the style {style.describe()}")
      + f": {steps} steps of {BATCH}"
      + (f", at most {minutes:g} minutes" if minutes else ""))
  t0 = time.monotonic()
  final = trainer.train_and_evaluate(config, workdir)
  train_minutes = (time.monotonic() - t0) / 60
  if final.get("stopped") == "signal":
    raise FinetuneError(f"stopped by a signal at step {final['step']}; the run is in {workdir} "
                        "(run the command again to start over)")

  weights = os.path.join(out, "weights")
  # The calibration fits the default style's output: on the artist's pairs when
  # they are drawn in it, else on synthetic pairs (theirs do not show it).
  style_flags = "".join(f" {flag}" for flag in style.arguments())
  rc = calibrate.main([workdir, "--out", weights, "--data",
                       packed if style.is_default else "synthetic", "--pairs", "30",
                       "--command", f"python -m lineart_jax.finetune {' '.join(sources)} "
                       f"--out {out} --init {init} --steps {steps}"
                       + (f" --minutes {minutes:g}" if minutes else "") +
                       f" --holdout {holdout} --seed {seed}{style_flags}"])
  if rc:
    raise FinetuneError(f"calibrate failed on {workdir}")
  summary = {"init": init, "train_pairs": n, "held_out_pairs": len(held),
             "steps": int(final.get("step", steps)), "train_minutes": train_minutes,
             "held_out": [p.color for p in held]}
  log("scoring before and after on the held-out drawings and synthetic pairs")
  scores = report(out, init, weights, held, summary, synthetic_pairs, style)
  h = scores["held_out"]
  log(f"held-out drawings: F@2 {h['before']['f_score']:.3f} -> {h['after']['f_score']:.3f}, "
      f"PSNR {h['before']['psnr']:.2f} -> {h['after']['psnr']:.2f} dB; synthetic: F@2 "
      f"{scores['synthetic']['before']['f_score']:.3f} -> "
      f"{scores['synthetic']['after']['f_score']:.3f}")
  log(f"weights: {weights} (use --checkpoint={weights}); report: "
      f"{os.path.join(out, 'report.md')}")
  return scores


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("sources", nargs="+", help="layered files (.ora, .kra, .psd), folders of "
                 "them, or pair folders (color/ + line/)")
  p.add_argument("--out", required=True, help="folder for pairs, the run, weights, report")
  p.add_argument("--init", default="pretrained", help="weights to start from: 'pretrained' "
                 "(default), a training workdir, or a folder in the shipped format")
  p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                 help="training steps of batch 12 (default %(default)s: about 5 minutes on "
                 "2 CPU cores at width 1/2)")
  p.add_argument("--minutes", type=float, default=0.0,
                 help="stop training after this many minutes (0: run --steps)")
  p.add_argument("--holdout", type=float, default=0.25,
                 help="fraction of the pairs held out for testing, whole drawings at a time")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--workers", type=int, default=2, help="loader worker processes")
  p.add_argument("--line-layers", default=layers.DEFAULT_LINE_LAYERS,
                 help="regex of line layer names in layered files")
  style_lib.add_arguments(p, "the style your line art is drawn in (default: the default "
                          "style; e.g. --contours=all if it draws every color boundary)")
  args = p.parse_args(argv)
  if args.steps <= 0 or args.minutes < 0 or not 0 < args.holdout < 1:
    p.error("--steps must be positive, --minutes >= 0, --holdout in (0, 1)")
  try:
    style = style_lib.from_arguments(args)
  except ValueError as e:
    p.error(str(e))
  from lineart_jax import _malloc
  _malloc.keep_freed_memory()  # a training process: before JAX starts its threads
  from absl import logging as absl_logging
  from lineart_jax.metrics import quiet_library_logs
  absl_logging.set_verbosity(absl_logging.INFO)
  quiet_library_logs()
  try:
    run(args.sources, args.out, args.init, args.steps, args.minutes, args.holdout, args.seed,
        args.workers, args.line_layers, style=style)
  except (FinetuneError, FileNotFoundError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  sys.exit(main())
