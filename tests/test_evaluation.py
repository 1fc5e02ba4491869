"""The scores and panels every comparison with OpenCV rests on."""

import numpy as np

from lineart_jax import evaluation


def _line_at(column: int, size: int = 32) -> np.ndarray:
  """White paper with a black vertical line 1 px wide at ``column``."""
  img = np.ones((size, size), np.float32)
  img[:, column] = 0.0
  return img


def test_ink_f_score_tolerates_two_pixels_and_no_more():
  target = _line_at(10)
  for shift, expected in [(0, 1.0), (2, 1.0), (3, 0.0)]:
    f = evaluation.InkFScore()
    f.add(_line_at(10 + shift), target)
    assert f.result()["f_score"] == expected, shift


def test_ink_f_score_counts_spurious_ink_against_precision():
  f = evaluation.InkFScore()
  pred = _line_at(10)
  pred[:, 20] = 0.0  # a second, wrong line as long as the right one
  f.add(pred, _line_at(10))
  r = f.result()
  assert (r["precision"], r["recall"]) == (0.5, 1.0)


def test_psnr_of_a_known_error():
  a = np.zeros((8, 8), np.float32)
  assert abs(evaluation.psnr(a + 0.1, a) - 20.0) < 1e-4  # MSE 0.01


def test_panel_rows_are_color_prediction_target_and_loss_map():
  rng = np.random.default_rng(0)
  pairs = [{"color": rng.integers(0, 256, (16, 24, 3), dtype=np.uint8),
            "line": rng.integers(0, 256, (16, 24, 1), dtype=np.uint8)} for _ in range(3)]
  preds = [rng.uniform(0, 1, (16, 24)).astype(np.float32) for _ in range(3)]
  grid = evaluation.panel(pairs, preds, rows=2)
  assert grid.shape == (32, 96, 3) and grid.dtype == np.uint8
  np.testing.assert_array_equal(grid[:16, :24], pairs[0]["color"])
  np.testing.assert_array_equal(grid[16:, 24:48, 1], np.round(preds[1] * 255).astype(np.uint8))
  np.testing.assert_array_equal(grid[:16, 48:72, 0], pairs[0]["line"][..., 0])


def test_skeleton_is_one_pixel_wide_and_stroke_width_follows_the_drawn_width():
  widths = []
  yy, xx = np.mgrid[:400, :400]
  for w in (3, 6, 12):
    img = np.ones((400, 400), np.float32)
    img[40:360, 100:100 + w] = 0.0  # a straight bar w px wide, 320 long
    img[np.abs(np.hypot(yy - 200, xx - 270) - 80) < w / 2] = 0.0  # a ring w px wide
    skel = evaluation.skeleton(img < 0.5)
    assert skel.any() and not (skel & ~(img < 0.5)).any()  # inside the ink
    bar = skel[60:340, 90:100 + w + 10]  # away from the bar's ends: one pixel per row
    assert (bar.sum(axis=1) == 1).all(), w
    widths.append(evaluation.stroke_width(img))
    assert abs(widths[-1] - 2 * w) <= 0.1 * 2 * w, (w, widths[-1])  # twice the width
    filled = img.copy()
    filled[150:250, 10:80] = 0.0  # a solid fill, apart from the lines: left out
    assert abs(evaluation.stroke_width(filled) - widths[-1]) <= 0.05 * widths[-1], w
    light = 1.0 - 0.5 * (1.0 - img)  # the same lines half as dark: half the ink area
    assert abs(evaluation.stroke_width(light) - widths[-1] / 2) <= 0.05 * widths[-1], w
  assert widths[0] < widths[1] < widths[2]
  assert np.isnan(evaluation.stroke_width(np.ones((8, 8))))


def test_ink_near_counts_ink_within_the_tolerance_only():
  pred, ink = _line_at(10) < 0.5, _line_at(12) < 0.5
  assert evaluation.ink_near(pred, ink) == 1.0
  assert evaluation.ink_near(pred, _line_at(13) < 0.5) == 0.0
  assert evaluation.ink_near(pred, np.zeros((32, 32), bool)) == 1.0


def test_score_images_counts_ink_within_the_given_tolerance(tmp_path):
  """The model here is the OpenCV method (extractor None); the truth is its own
  output moved 2 px: found within 2 px, not within 0 or 1."""
  color = np.full((48, 48, 3), 255, np.uint8)
  color[:, 20:22] = 0
  truth = np.roll(evaluation.opencv_lines(color), 2, axis=1)
  pairs = [{"color": color, "line": np.round(truth * 255).astype(np.uint8)}]
  f = {}
  for tolerance in (0, 1, 2):
    csv_path = tmp_path / f"scores{tolerance}.csv"
    scores = evaluation.score_images(None, pairs, ["a.png"], None, csv_path=str(csv_path),
                                     tolerance=tolerance)
    f[tolerance] = scores["model"]["f_score"]
    per_image = float(open(csv_path).read().splitlines()[1].split(",")[2])  # image,psnr,f
    assert abs(per_image - f[tolerance]) < 1e-9
    assert f"F({tolerance}px)" in evaluation.format_comparison(scores, tolerance)
  assert f[2] == 1.0 and f[1] < 0.6 and f[0] < 0.6, f
