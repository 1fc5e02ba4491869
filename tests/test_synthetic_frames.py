"""The generator's anime frames and its contours=all targets (issue 41).

What they must hold: the drawings are those of the generator without frames; a
boundary between flat colors with no stroke is paper in the drawn target and a
thin line in the all-contours one; soft paint, dark clutter and letterbox bars
are paper in both.
"""

import cv2
import numpy as np
import pytest

from lineart_jax import style as style_lib
from lineart_jax.data import synthetic
from lineart_jax.style import Style

SIZE = 64


def _two_flat_regions(style: Style, soft: bool = False) -> np.ndarray:
  """The line art of a canvas with a flat square on a flat background (no stroke)."""
  canvas = synthetic.Canvas(np.random.default_rng(0), SIZE, style)
  canvas.fill_background(np.array([200.0, 60.0, 160.0]))  # magenta
  square = canvas.region(np.array([[16, 16], [48, 16], [48, 48], [16, 48]], np.float64))
  if soft:
    square = cv2.GaussianBlur(square, (0, 0), 6.0)
  canvas.paint(square, np.array([250.0, 150.0, 210.0]), flat=not soft)  # pink
  return canvas.result()[1]


def test_a_boundary_without_a_stroke_is_a_line_only_with_contours_all():
  drawn = _two_flat_regions(Style())
  every = _two_flat_regions(Style(contours="all"))
  assert drawn.min() > 250  # no stroke drawn: paper
  ink = every < 160  # on the pixel grid the line falls on two pixels at half ink
  ys, xs = np.nonzero(ink)
  assert ink.sum() > 100  # the square's four sides
  # every ink pixel within 1.5 px of the square's outline (pixel centres at i + 0.5)
  on_outline = (np.minimum(np.abs(np.abs(xs - 31.5) - 16), np.abs(np.abs(ys - 31.5) - 16)) <= 1.5)
  assert on_outline.all(), (xs[~on_outline], ys[~on_outline])
  assert ink.sum() < 4 * 32 * 2.5  # about one or two pixels wide
  # the same square painted soft (an airbrush glow) is no contour
  assert _two_flat_regions(Style(contours="all"), soft=True).min() > 250


def test_contours_all_keeps_every_drawn_line_and_the_same_color_image():
  for i in range(6):
    color, drawn = synthetic.make_pair(5, i, SIZE, frames=0.5)
    color2, every = synthetic.make_pair(5, i, SIZE, style=Style(contours="all"), frames=0.5)
    np.testing.assert_array_equal(color, color2)
    assert np.all(every.astype(int) <= drawn.astype(int) + 1), i


def test_frames_leave_the_drawings_as_they_were():
  """Which pairs are frames is drawn apart: every other pair is the drawing of
  frames=0, and some are frames (different images)."""
  differ = 0
  for i in range(12):
    a = synthetic.make_pair(3, i, SIZE)
    b = synthetic.make_pair(3, i, SIZE, frames=0.5)
    frame = np.random.default_rng([3, i, synthetic.FRAME_STREAM]).uniform() < 0.5
    same = all(np.array_equal(x, y) for x, y in zip(a, b))
    assert same != frame, i
    differ += frame
  assert 0 < differ < 12


def test_info_names_each_pairs_scene_and_changes_no_pair():
  """make_pair's info (bench/contours.py --by-scene): a drawing is "drawing", a
  frame one of the frame scenes, and asking changes nothing drawn."""
  seen = set()
  for i in range(16):
    info = {}
    pair = synthetic.make_pair(3, i, SIZE, frames=0.75, info=info)
    frame = np.random.default_rng([3, i, synthetic.FRAME_STREAM]).uniform() < 0.75
    assert (info["scene"] != "drawing") == frame, (i, info)
    assert info["scene"] in synthetic.SCENES
    for a, b in zip(pair, synthetic.make_pair(3, i, SIZE, frames=0.75)):
      np.testing.assert_array_equal(a, b)
    seen.add(info["scene"])
  assert len(seen) >= 4, seen  # drawings and several kinds of frame


def test_bench_counts_the_missed_ink_inside_solid_fills():
  """bench/contours.py --by-scene's ``fills``: of a filled square and a thin line,
  a prediction with the square's outline alone misses its interior, all of it
  inside the fill; one without the line misses ink that is not."""
  import importlib.util
  import os

  from subprocess_env import REPO
  spec = importlib.util.spec_from_file_location("bench_contours",
                                                os.path.join(REPO, "bench", "contours.py"))
  bench = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(bench)
  line = np.full((SIZE, SIZE), 255, np.uint8)
  line[10:40, 10:40] = 0  # a 30-px filled square
  line[50, 5:60] = 0  # a thin line
  outline = np.ones((SIZE, SIZE), np.float32)
  outline[line == 0] = 0.0
  outline[12:38, 12:38] = 1.0  # the square's 2-px outline and the line
  missed, in_fills = bench.missed_in_fills(outline, line, 0.5)
  assert missed == (30 - 2 * 4) ** 2 and in_fills == missed  # beyond 2 px of the outline
  no_line = outline.copy()
  no_line[50] = 1.0
  missed, in_fills = bench.missed_in_fills(no_line, line, 0.5)
  assert missed == (30 - 2 * 4) ** 2 + 55 and in_fills == (30 - 2 * 4) ** 2


def test_dark_clutter_and_letterbox_bars_are_paper_in_both_targets():
  for st in (Style(), Style(contours="all")):
    canvas = synthetic.Canvas(np.random.default_rng(1), SIZE, st)
    canvas.fill_background(np.array([8.0, 6.0, 12.0]))
    synthetic._clutter(canvas, np.random.default_rng(2), SIZE)
    canvas.overlays.clear()
    bar = np.zeros((canvas.size, canvas.size), np.float32)
    bar[:20] = 1.0
    canvas.cover_lines(bar)
    canvas.overlay("normal", bar, np.zeros(3))
    color, line = canvas.result()
    assert color.mean() < 60  # a dark frame with bright specks
    if st.contours == "drawn":
      assert line.min() > 250  # no ink anywhere
    else:  # only confetti edges, if any: never solid, none under the bar nor along its edge
      assert line[:10].min() > 250 and (line < 128).mean() < 0.1
      assert not (line[8:13] < 200).all(axis=1).any()


def test_training_styles_draw_contours_all_in_the_asked_share_and_leave_the_rest():
  rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(0)
  old = [style_lib.sample(rng_a) for _ in range(1000)]
  new = [style_lib.sample(rng_b, contours=0.4) for _ in range(1000)]
  # the other controls drawn as before: the first four fields of the first style agree
  assert all(s.contours == "drawn" for s in old)
  assert (old[0].line_weight, old[0].detail, old[0].tone, old[0].blacks) == (
      new[0].line_weight, new[0].detail, new[0].tone, new[0].blacks)
  share = np.mean([s.contours == "all" for s in new if not s.is_default])
  assert 0.3 < share < 0.5, share


STROKE_FILL = np.array([230.0, 200.0, 170.0])


def _stroke(frame: bool, seed: int, fill: np.ndarray = STROKE_FILL,
            **shares: float) -> tuple[np.ndarray, np.ndarray]:
  """(color, line) of one 3-px stroke along row 32, drawn by a frame's or a
  drawing's pen (``shares``: its ``light_traces`` and ``bright_traces``) across
  ``fill`` (the light ``STROKE_FILL`` by default; wide enough that coverage is not
  tone)."""
  rng = np.random.default_rng(seed)
  pen = synthetic.Pen(rng, synthetic.FrameKind(traced=True, **shares) if frame else None)
  canvas = synthetic.Canvas(rng, SIZE, Style())
  canvas.fill_background(fill)
  pen.draw(canvas, np.linspace([8.0, 32.0], [56.0, 32.0], 24), fill, width=3.0,
           kind="even")
  return canvas.result()


def _stroke_tones(frame: bool, seed: int) -> np.ndarray:
  """The line art along the middle of ``_stroke``."""
  return _stroke(frame, seed)[1][32, 16:48].astype(np.float32)


def test_a_traced_frames_lines_are_one_tone_along_each_line():
  """A traced frame's lines are cels' trace: one tone along each line, never
  pencil grain (a drawing's pencil breaks its line art up)."""
  frames = [np.ptp(_stroke_tones(True, seed)) for seed in range(40)]
  drawings = [np.ptp(_stroke_tones(False, seed)) for seed in range(40)]
  assert max(frames) <= 2, frames
  assert max(drawings) > 15, drawings  # the grain the frames' pen must not have


def test_a_traced_frames_hair_strands_are_drawn_a_drawings_painted():
  """Between a hair mass's outer strands a traced frame has drawn strands (line art,
  AniLines' basic mode draws them); a drawing has a colorist's painted streaks
  (paint: absent from its line art)."""
  drawn = [0, 0]
  for seed in range(8):
    for frame in (False, True):
      rng = np.random.default_rng(seed)
      canvas = synthetic.Canvas(rng, SIZE, Style())
      canvas.traced = frame
      canvas.fill_background(np.array([240.0, 240.0, 240.0]))
      synthetic._hair(canvas, synthetic.Pen(np.random.default_rng(100 + seed)), rng, SIZE)
      drawn[frame] += int((canvas.result()[1] < 128).sum())
  assert drawn[1] > 1.3 * drawn[0], drawn


TRACED = synthetic.FrameKind(traced=True)


def _drawings_as_traced_frames_leave_them(kind: synthetic.FrameKind) -> None:
  """Every drawing among 6 pairs is the same with ``kind``'s frames as with
  ``TRACED``'s; and ``kind``'s shares are refused for untraced frames."""
  for i in range(6):
    plain = synthetic.make_pair(3, i, SIZE, frames=0.5, kind=TRACED)
    if np.array_equal(plain[0], synthetic.make_pair(3, i, SIZE)[0]):  # a drawing
      assert all(np.array_equal(a, b) for a, b in zip(
          plain, synthetic.make_pair(3, i, SIZE, frames=0.5, kind=kind))), i
  shares = {k: v for k, v in vars(kind).items() if k != "traced"}
  with pytest.raises(ValueError, match="traced"):
    synthetic.FrameKind(**shares)


def test_traced_frames_leave_the_rest_as_it_was():
  """``traced`` changes the frames only: every drawing, and every frame without
  it, is the generator's as before; some traced frames differ."""
  differ = 0
  for i in range(12):
    plain = synthetic.make_pair(3, i, SIZE, frames=0.5)
    traced = synthetic.make_pair(3, i, SIZE, frames=0.5, kind=TRACED)
    drawing = synthetic.make_pair(3, i, SIZE)
    if np.array_equal(plain[0], drawing[0]):  # a drawing: unchanged by traced
      assert all(np.array_equal(a, b) for a, b in zip(plain, traced)), i
    else:
      differ += not np.array_equal(plain[0], traced[0])
  assert differ >= 3


def _trace(seed: int, fill: np.ndarray = STROKE_FILL, **shares: float
           ) -> tuple[float, np.ndarray]:
  """A traced frame's ``_stroke``: the luminance of its color along the middle,
  x the fill's, and its line art there."""
  color, line = _stroke(True, seed, fill, **shares)
  luma = color[32, 20:44].astype(np.float64) @ synthetic.LUMA
  return float(luma.mean() / (fill @ synthetic.LUMA)), line[32, 20:44].astype(np.float32)


def test_light_traces_shade_a_frames_lines_lighter_and_leave_them_lines():
  """``light_traces``: a traced frame's colored line may be a light shade of the
  fill (real frames' often are), yet its line art is the same drawn line, of the
  same tone; drawings ignore it, untraced frames refuse it."""
  lighter = 0
  for seed in range(40):
    (dark, dark_line), (light, light_line) = _trace(seed), _trace(seed, light_traces=1.0)
    assert np.abs(dark_line - light_line).max() <= 2, seed  # the same line, same tone
    assert light_line.mean() < 250, seed  # a line, not paper
    if light != dark:  # a colored line: now a light shade of the fill
      lighter += 1
      assert synthetic.LIGHT_TRACE_SHADE[0] - 0.05 < light < synthetic.LIGHT_TRACE_SHADE[1] + 0.05
      assert dark < 0.65, (seed, dark)
  assert lighter >= 10, lighter
  _drawings_as_traced_frames_leave_them(synthetic.FrameKind(traced=True, light_traces=1.0))


DARK_FILL = np.array([70.0, 55.0, 90.0])


def test_bright_traces_draw_a_frames_lines_brighter_than_a_dark_fill_and_leave_them_lines():
  """``bright_traces``: a traced frame's thin line may be brighter than a dark fill
  (a rim light), yet its line art is the same drawn line, of the same tone; on a
  fill too light for that to show, the line stays darker than it; drawings ignore
  it, untraced frames refuse it."""
  brighter = 0
  for seed in range(40):
    plain = _trace(seed, DARK_FILL)[0]
    bright, bright_line = _trace(seed, DARK_FILL, bright_traces=1.0)
    if bright != plain:  # now brighter than the fill, visibly
      brighter += 1
      assert bright_line.mean() < 250, seed  # a line, not paper
      # the same line in the same tone as on the light fill (on the dark one a dark line
      # may show too little to be kept at its full tone)
      assert np.abs(_trace(seed)[1] - bright_line).max() <= 2, seed
      assert (bright - 1.0) * (DARK_FILL @ synthetic.LUMA) > synthetic.BRIGHT_TRACE_VISIBLE - 8
      assert _trace(seed, bright_traces=1.0)[0] < 1.0, seed  # on the light fill: darker
  assert brighter >= 10, brighter
  _drawings_as_traced_frames_leave_them(synthetic.FrameKind(traced=True, bright_traces=1.0))


def _sharpness(color: np.ndarray) -> float:
  gray = cv2.cvtColor(color, cv2.COLOR_RGB2GRAY).astype(np.float32)
  return float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())


def test_soft_frames_soften_traced_frames_and_leave_their_line_art():
  """``soft_frames``: the share of traced frames given a soft blur. All softened
  against none: the same line art, a less sharp color image (film grain and JPEG,
  drawn after the blur, may differ, so not in every pair); drawings ignore it."""
  softer = 0
  for i in range(8):
    soft = synthetic.make_pair(3, i, SIZE, frames=1.0,
                               kind=synthetic.FrameKind(traced=True, soft_frames=1.0))
    sharp = synthetic.make_pair(3, i, SIZE, frames=1.0,
                                kind=synthetic.FrameKind(traced=True, soft_frames=0.0))
    np.testing.assert_array_equal(soft[1], sharp[1])
    softer += _sharpness(soft[0]) < _sharpness(sharp[0])
  assert softer >= 6, softer
  _drawings_as_traced_frames_leave_them(synthetic.FrameKind(traced=True, soft_frames=1.0))


def test_the_cli_refuses_a_traced_share_without_traced_frames(tmp_path, capsys):
  with pytest.raises(SystemExit):
    synthetic.main([str(tmp_path / "pairs"), "--frames", "0.5", "--bright-traces", "0.5"])
  assert "--bright-traces draws traced frames only" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    synthetic.main([str(tmp_path / "pairs"), "--frames", "0.5", "--traced",
                    "--soft-frames", "1.5"])
  assert "--soft-frames must be a fraction" in capsys.readouterr().err
  assert not (tmp_path / "pairs").exists()  # refused before anything was written
