"""The frame measure (lineart_jax.agreement): agreement with a peer's line art."""

import csv

import cv2
import numpy as np
import pytest

from lineart_jax import agreement


def _paper(size=64):
  return np.ones((size, size), np.float32)


def _lines(*columns, size=64, width=1):
  """Paper with black vertical lines ``width`` px wide starting at ``columns``."""
  img = _paper(size)
  for c in columns:
    img[:, c:c + width] = 0.0
  return img


def test_a_filled_disk_is_solid_ink():
  img = _paper()
  cv2.circle(img, (32, 32), 15, 0.0, -1)
  s = agreement.compare(img, img).shares()
  assert s["solid"] > 0.1
  # exactly the disk's pixels more than 3 px from paper
  ink = img < 0.5
  dist = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
  assert agreement.solid_ink(ink).sum() == np.sum(dist > 3) > 0
  assert s["solid"] == np.sum(dist > 3) / img.size


def test_thin_lines_are_not_solid_ink():
  img = _lines(5, 20, 40, width=6)  # strokes 6 px wide
  assert agreement.compare(img, img).shares()["solid"] == 0.0
  grid = _lines(5, 20, 40, width=4)
  grid[30:34, :] = 0.0                 # strokes 4 px wide crossing
  assert agreement.compare(grid, grid).shares()["solid"] == 0.0
  grid[30:35, :] = 0.0                 # a 5-px one crossing them: the crossings' cores
  assert np.array_equal(np.nonzero(agreement.solid_ink(grid < 0.5).any(1))[0], [32])
  wide = _lines(20, width=7)           # 7 px wide: a one-pixel core
  assert np.array_equal(np.nonzero(agreement.solid_ink(wide < 0.5).any(0))[0], [23])


def test_solid_ink_is_the_euclidean_distance_to_paper():
  rng = np.random.default_rng(0)
  blobs = cv2.GaussianBlur(rng.uniform(size=(96, 96)).astype(np.float32), (0, 0), 4)
  ink = blobs < np.quantile(blobs, 0.5)
  dist = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
  assert np.array_equal(agreement.solid_ink(ink), dist > 3)
  assert 0 < agreement.solid_ink(ink).sum() < ink.sum()


def test_recall_falls_where_the_reference_has_lines_ours_lacks():
  s = agreement.compare(_lines(10), _lines(10, 40)).shares()
  assert (s["recall"], s["precision"]) == (0.5, 1.0)


def test_precision_falls_where_ours_has_extra_lines():
  s = agreement.compare(_lines(10, 30, 50), _lines(10)).shares()
  assert s["recall"] == 1.0 and s["precision"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("shift, near", [(0, 1.0), (1, 1.0), (2, 1.0), (3, 0.0), (4, 0.0)])
def test_a_line_counts_within_two_pixels_and_no_further(shift, near):
  for ours, ref in [(_lines(20 + shift), _lines(20)), (_lines(20 + shift).T, _lines(20).T)]:
    s = agreement.compare(ours, ref).shares()
    assert (s["recall"], s["precision"]) == (near, near), shift


def test_ink_share_and_ratio():
  ours, ref = _lines(10, 30, width=2), _lines(10, width=2)  # 4 and 2 columns of 64
  s = agreement.compare(ours, ref).shares()
  assert (s["ink"], s["ref_ink"], s["ink_ratio"]) == (4 / 64, 2 / 64, 2.0)
  # ink is darker than the threshold, on both sides
  gray = _paper()
  gray[:, 10] = 0.5
  gray[:, 11] = 0.49
  assert agreement.compare(gray, gray).ink == 64
  assert agreement.compare(gray, gray, threshold=0.6).ink == 128
  empty = agreement.compare(_paper(), _lines(10)).shares()
  assert empty["ink_ratio"] == 0.0 and np.isnan(empty["precision"]) and empty["recall"] == 0.0


def test_images_pool_as_counts():
  a = agreement.compare(_lines(10), _lines(10, 40))          # recall 1/2
  b = agreement.compare(_lines(5, 20, 35, 50), _lines(5, 20, 35, 50))  # recall 1
  pooled = (a + b).shares()
  assert pooled["recall"] == (64 + 4 * 64) / (2 * 64 + 4 * 64)
  assert pooled["ink_ratio"] == (5 * 64) / (6 * 64)


def test_cli_on_folders(tmp_path):
  from lineart_jax.data.imageio import write_png
  for d in ("color", "peer", "ours"):
    (tmp_path / d).mkdir()
  for stem in ("a", "b"):
    write_png(str(tmp_path / "color" / f"{stem}.png"), np.zeros((64, 64, 3), np.uint8))
  u8 = lambda x: (x * 255).astype(np.uint8)  # noqa: E731
  cv2.imwrite(str(tmp_path / "peer" / "a.jpg"), u8(_lines(10, 40, width=2)))
  cv2.imwrite(str(tmp_path / "peer" / "b.png"), u8(_lines(20)))
  write_png(str(tmp_path / "ours" / "a_lineart.png"), u8(_lines(10, width=2)))
  write_png(str(tmp_path / "ours" / "b.png"), u8(_lines(20, 50)))
  out = tmp_path / "out.csv"
  assert agreement.main([str(tmp_path / "color"), str(tmp_path / "peer"),
                         "--ours", str(tmp_path / "ours"), "--csv", str(out)]) == 0
  rows = {r["image"]: r for r in csv.DictReader(open(out))}
  assert list(rows) == ["a", "b", "all"]
  assert float(rows["a"]["recall"]) == pytest.approx(0.5, abs=0.02)  # a JPEG's edges
  assert float(rows["b"]["precision"]) == 0.5
  assert float(rows["b"]["ink_ratio"]) == 2.0
  with pytest.raises(SystemExit):  # style flags are for a model run here
    agreement.main([str(tmp_path / "color"), str(tmp_path / "peer"),
                    "--ours", str(tmp_path / "ours"), "--tone=dark"])


def test_recall_by_line_polarity_splits_dark_and_bright_lines():
  """With the color image, the reference's ink is sorted by what the image shows
  there: a dark line (recalled here), a bright rim light and a plain step between
  flat areas (missed; the step found where ours draws it)."""
  color = np.full((64, 64, 3), 120, np.uint8)
  color[:, 10] = 20    # a dark line
  color[:, 40] = 240   # a bright line
  color[:, 52:] = 200  # a plain boundary between two flat areas: neither
  reference = _lines(10, 40, 52)
  s = agreement.compare(_lines(10), reference, color=color).shares()
  assert s["recall_dark"] == 1.0 and s["recall_bright"] == 0.0 and s["recall_other"] == 0.0
  assert s["bright_share"] == pytest.approx(1 / 3) and s["other_share"] == pytest.approx(1 / 3)
  assert s["recall"] == pytest.approx(1 / 3)
  step = agreement.compare(_lines(52), reference, color=color).shares()  # the step alone
  assert step["recall_other"] == 1.0 and step["recall_dark"] == 0.0
  plain = agreement.compare(_lines(10), reference).shares()  # no color: not sorted
  assert all(np.isnan(plain[k]) for k in ("bright_share", "other_share", "recall_bright",
                                          "recall_other"))
  with pytest.raises(ValueError, match="color image"):
    agreement.compare(_lines(10), reference, color=color[:32])


def test_grid_is_about_one_for_lines_and_high_for_dots_on_the_grid():
  """Lines at any place and angle favour no phase of the 4x4 grid; a faint line
  drawn as dots 4 px apart does, at whatever phase, and pools per image."""
  smooth = np.ones((96, 96), np.float32)
  cv2.line(smooth, (3, 5), (90, 70), 0.6, 1, cv2.LINE_AA)
  cv2.line(smooth, (10, 90), (85, 12), 0.4, 2, cv2.LINE_AA)
  dotted = smooth.copy()
  dotted[2::4, 1::4] = np.minimum(dotted[2::4, 1::4], np.where(smooth[2::4, 1::4] < 1, 0.0, 1.0))
  ref = np.ones_like(smooth)
  line_grid = agreement.compare(smooth, ref).shares()["grid"]
  dot_grid = agreement.compare(dotted, ref).shares()["grid"]
  assert 1.0 <= line_grid < 1.15 and dot_grid > 1.5
  assert agreement.compare(np.roll(dotted, (1, 2), (0, 1)), ref).shares()["grid"] == \
      pytest.approx(dot_grid, rel=0.05)
  pooled = (agreement.compare(smooth, ref) + agreement.compare(dotted, ref)).shares()["grid"]
  assert line_grid < pooled < dot_grid


def test_pooled_grid_of_several_line_arts():
  """``pooled_grid`` (bench/contours.py's grid column): line art drawn as dots on
  a 4-px grid reads well above smooth line art, and the two together read between."""
  smooth = np.ones((64, 64), np.float32)
  smooth[:, 20:24] = 0.3  # a line 4 px wide: every phase alike
  dotted = np.ones((64, 64), np.float32)
  dotted[::4, 20:23:4] = 0.0
  assert agreement.pooled_grid([smooth]) == pytest.approx(1.0)
  assert agreement.pooled_grid([dotted]) > 10
  assert agreement.pooled_grid([smooth]) < agreement.pooled_grid([smooth, dotted]) \
      < agreement.pooled_grid([dotted])
