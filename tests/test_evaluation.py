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
