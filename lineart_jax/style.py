"""Line style: the five controls a user sets and the vector the network reads.

A model with ``style_dims=6`` (``config.model.style_dims``) takes, beside RGB, a
style vector per image.  Each entry is an *offset from the default style*, so
the default style is the zero vector, and the network's style layers, which
start at zero, leave it computing exactly what the model it extends computes:

============ ========================== =================== ==========================
control      values                     default             vector entries
============ ========================== =================== ==========================
line_weight  0.5 .. 2 (x drawn width)   1                   log2(line_weight)
detail       0 .. 1 (inner strokes)     1 (all)             detail - 1
tone         drawn | dark               drawn (own tone)    0 | 1
blacks       auto | ink | paint         auto                (0, 0) | (1, 0) | (0, 1)
contours     drawn | all                drawn               0 | 1
============ ========================== =================== ==========================

``blacks`` takes two entries (is ink, is paint), not one signed one: the network's
style layers are linear in the vector, and "paint" is not "ink" negated.

* ``line_weight`` scales every line's width in the line art;
* ``detail`` 0 leaves out the strokes the generator marks as detail (hair
  strands inside a mass, folds, frill folds, loose marks), 1 keeps them;
* ``tone`` ``dark`` draws every line's core at full ink (anti-aliased edges
  kept), ``drawn`` keeps each line's own tone (pencil stays gray); in the
  network it is the weight-free output layer ``model.darken_lines``, not FiLM;
* ``blacks``: ``ink`` draws black fills and large black paint (a black dress,
  black hair) into the line art, ``paint`` leaves only their outlines, small
  black spots (pupils) included, and ``auto`` is what the generator does by
  default: small black areas are ink, large ones paint.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

NAMES = ("line_weight", "detail", "tone", "blacks", "contours")
ENTRIES = ("log2_line_weight", "detail_minus_1", "tone_dark", "blacks_ink", "blacks_paint",
           "contours_all")
DIMS = len(ENTRIES)
LEGACY_DIMS = 5  # style models made before ``contours``: the first five entries
SUPPORTED_DIMS = (LEGACY_DIMS, DIMS)
TONES = ("drawn", "dark")
BLACKS = ("auto", "ink", "paint")
CONTOURS = ("drawn", "all")
WEIGHT_RANGE = (0.5, 2.0)


@dataclasses.dataclass(frozen=True)
class Style:
  line_weight: float = 1.0
  detail: float = 1.0
  tone: str = "drawn"
  blacks: str = "auto"
  contours: str = "drawn"

  def __post_init__(self):
    lo, hi = WEIGHT_RANGE
    if not lo <= float(self.line_weight) <= hi:
      raise ValueError(f"line weight {self.line_weight}: must be in [{lo}, {hi}]")
    if not 0.0 <= float(self.detail) <= 1.0:
      raise ValueError(f"detail {self.detail}: must be in [0, 1]")
    if self.tone not in TONES:
      raise ValueError(f"tone {self.tone!r}: must be one of {', '.join(TONES)}")
    if self.blacks not in BLACKS:
      raise ValueError(f"blacks {self.blacks!r}: must be one of {', '.join(BLACKS)}")
    if self.contours not in CONTOURS:
      raise ValueError(f"contours {self.contours!r}: must be one of {', '.join(CONTOURS)}")

  @property
  def is_default(self) -> bool:
    return self == Style()

  @property
  def dims_needed(self) -> int:
    """The fewest style entries a model needs to draw this style."""
    return DIMS if self.contours != "drawn" else LEGACY_DIMS

  def vector(self, dims: int = DIMS) -> np.ndarray:
    """The (dims,) float32 offsets from the default style the network reads;
    ``dims``: the model's ``style_dims`` (``SUPPORTED_DIMS``)."""
    if dims not in SUPPORTED_DIMS:
      raise ValueError(f"style vectors have {' or '.join(map(str, SUPPORTED_DIMS))} entries, "
                       f"not {dims}")
    if dims < self.dims_needed:
      raise ValueError(f"contours={self.contours} needs a model with style_dims={DIMS}")
    return np.array([math.log2(float(self.line_weight)), float(self.detail) - 1.0,
                     float(self.tone == "dark"), float(self.blacks == "ink"),
                     float(self.blacks == "paint"), float(self.contours == "all")][:dims],
                    np.float32)

  @classmethod
  def from_vector(cls, v) -> "Style":
    v = np.asarray(v, np.float64)
    if v.ndim != 1 or len(v) not in SUPPORTED_DIMS:
      raise ValueError(f"a style vector has {DIMS} entries ({', '.join(ENTRIES)}) or the first "
                       f"{LEGACY_DIMS}, got shape {v.shape}")
    blacks = "ink" if v[3] >= 0.5 else "paint" if v[4] >= 0.5 else "auto"
    contours = CONTOURS[int(len(v) > 5 and v[5] >= 0.5)]
    return cls(float(2.0 ** v[0]), float(v[1] + 1.0), TONES[int(v[2] >= 0.5)], blacks, contours)

  def arguments(self) -> list[str]:
    """The ``add_arguments`` flags that give this style (its non-default fields)."""
    return [f"--{f.name.replace('_', '-')}={getattr(self, f.name):g}"
            if isinstance(f.default, float) else f"--{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self) if getattr(self, f.name) != f.default]

  def describe(self) -> str:
    return (f"line weight {self.line_weight:g}, detail {self.detail:g}, tone {self.tone}, "
            f"blacks {self.blacks}, contours {self.contours}")


def sample(rng: np.random.Generator, contours: float = 0.0) -> Style:
  """A training style: each control at its default half the time (a quarter of
  the pairs keep the whole default style), otherwise spread over its range;
  ``contours=all`` in a fraction ``contours`` of the others (drawn last, so that
  ``contours=0`` gives the styles drawn before the control existed).

  Detail is drawn as 0 or 1 only: a target at detail 0.4 keeps a random 40 % of
  the detail strokes, which the color image cannot tell apart, so squared error
  taught the network to draw every stroke that might be detail at partial ink,
  outlines included (outline recall at detail 0: 0.898 trained with values
  between, 0.912 with 0 or 1 only; docs/model_card.md).  Values between 0 and 1
  still work at inference (the style layers are linear in the vector).
  Line weight is rounded to 4 decimals so that ``style.tsv`` (6 significant
  digits) holds exactly the style the target was drawn with."""
  if rng.uniform() < 0.25:
    return Style()
  weight = round(float(2.0 ** rng.uniform(-1, 1)), 4) if rng.uniform() < 0.5 else 1.0
  detail = 0.0 if rng.uniform() < 0.5 else 1.0
  tone = "dark" if rng.uniform() < 0.4 else "drawn"
  blacks = str(rng.choice(["auto", "ink", "paint"], p=[0.4, 0.3, 0.3]))
  every = contours and rng.uniform() < contours
  return Style(weight, detail, tone, blacks, "all" if every else "drawn")


def default_vector(batch: int = 1, dims: int = DIMS) -> np.ndarray:
  return np.zeros((batch, dims), np.float32)


def fit_vector(v, dims: int) -> np.ndarray:
  """A stored style vector (5 or 6 entries) as a model of ``dims`` entries reads
  it: a 5-entry one is ``contours=drawn``; a 6-entry one for a 5-entry model must
  not ask for ``contours=all``, which that model cannot draw."""
  v = np.asarray(v, np.float32)
  if len(v) < dims:
    return np.concatenate([v, np.zeros(dims - len(v), np.float32)])
  if np.any(v[dims:]):
    raise ValueError(f"a style vector asking for {', '.join(ENTRIES[dims:])} given to a model "
                     f"with style_dims={dims}")
  return v[:dims]


# -- the command-line flags of infer and evaluate ------------------------------
FLAG_HELP = {
    "line_weight": f"line width, x the drawn width, {WEIGHT_RANGE[0]:g}..{WEIGHT_RANGE[1]:g} "
                   "(default 1: as drawn)",
    "detail": "inner strokes (hair strands, folds, small marks): 0 drops them, 1 keeps "
              "all (default)",
    "tone": "lines' tone: drawn (each line's own, pencil stays gray; default) or dark "
            "(every line's core at full ink)",
    "blacks": "solid black areas: auto (small ones ink, large ones paint; default), ink "
              "(drawn as line art) or paint (only their outlines)",
    "contours": "which lines: drawn (the strokes an artist drew; default) or all (also every "
                "boundary between flat colors with no stroke: CG, backgrounds, cel shadows)",
}


def add_arguments(parser, title: str = "line style (a model with a style input)") -> None:
  """``--line-weight --detail --tone --blacks --contours`` on an argparse parser
  (defaults: the default style, which needs no style model)."""
  g = parser.add_argument_group(title)
  g.add_argument("--line-weight", type=float, default=1.0, help=FLAG_HELP["line_weight"])
  g.add_argument("--detail", type=float, default=1.0, help=FLAG_HELP["detail"])
  g.add_argument("--tone", choices=TONES, default="drawn", help=FLAG_HELP["tone"])
  g.add_argument("--blacks", choices=BLACKS, default="auto", help=FLAG_HELP["blacks"])
  g.add_argument("--contours", choices=CONTOURS, default="drawn", help=FLAG_HELP["contours"])


def define_absl_flags(flags) -> None:
  """The same five flags, ``--line-weight`` etc., for an absl CLI (``evaluate``)."""
  flags.DEFINE_float("line-weight", 1.0, FLAG_HELP["line_weight"])
  flags.DEFINE_float("detail", 1.0, FLAG_HELP["detail"])
  flags.DEFINE_enum("tone", "drawn", list(TONES), FLAG_HELP["tone"])
  flags.DEFINE_enum("blacks", "auto", list(BLACKS), FLAG_HELP["blacks"])
  flags.DEFINE_enum("contours", "drawn", list(CONTOURS), FLAG_HELP["contours"])


def from_absl_flags(FLAGS) -> Style:
  return Style(FLAGS["line-weight"].value, FLAGS.detail, FLAGS.tone, FLAGS.blacks,
               FLAGS.contours)


def from_arguments(args) -> Style:
  """The ``Style`` of parsed ``add_arguments`` flags (ValueError names a bad one)."""
  return Style(args.line_weight, args.detail, args.tone, args.blacks, args.contours)


def check_model(style: Style, dims: int, what: str) -> None:
  """A non-default style needs a model with a style input, and ``contours=all`` one
  with the contours entry: say so, naming it.  ``dims``: the model's ``style_dims``
  (an int, not its config: ONNX models have only their input's width, and this
  module sits below ``model``)."""
  if not style.is_default and not dims:
    raise ValueError(f"{what} has no style input, so it draws only the default style "
                     f"(asked: {style.describe()}); use a model trained with "
                     f"--config.model.style_dims={DIMS} (configs/style_finetune.py)")
  if not style.is_default and dims < style.dims_needed:
    raise ValueError(f"{what} was made before the contours control (style_dims={dims}), so "
                     f"it draws drawn lines only (asked: contours={style.contours}); use a "
                     f"model with --config.model.style_dims={DIMS}")
