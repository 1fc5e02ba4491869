import json
import os

import cv2
import numpy as np
import pytest

from lineart_jax.data import packed, pipeline, prepare, synthetic, validate
from lineart_jax.data.imageio import ImageError, read_color, read_line
from lineart_jax.data.pairs import find_pairs

AUG = pipeline.Augment(crop=32)


class FunctionSource:
  """Pairs whose line is a known function of the color: line = color's red channel."""

  def __init__(self, n=6, size=(48, 61)):
    self.items = []
    rng = np.random.default_rng(0)
    for _ in range(n):
      gray = rng.integers(0, 256, size, np.uint8)
      self.items.append({"color": np.repeat(gray[..., None], 3, 2), "line": gray})

  def __len__(self):
    return len(self.items)

  def __getitem__(self, i):
    return self.items[i]


def test_crop_and_flips_hit_both_images_the_same_way():
  src = FunctionSource()
  seen_flips = set()
  for i in range(20):
    rng = np.random.default_rng(i)
    out = AUG(src[i % len(src)], rng)
    assert out["color"].shape == (32, 32, 3) and out["line"].shape == (32, 32, 1)
    # Gray color: hue rotation leaves it gray, so line == red channel must hold.
    np.testing.assert_array_equal(out["line"][..., 0], out["color"][..., 0])
    rng = np.random.default_rng(i)
    rng.integers(0, 1), rng.integers(0, 1)  # the two window draws
    seen_flips.add((rng.random() < 0.5, rng.random() < 0.5))
  assert len(seen_flips) == 4


def test_crop_is_a_window_of_the_source_and_flips_are_real():
  src = FunctionSource(n=1)
  full = src[0]["line"]
  aug = pipeline.Augment(crop=32, flips=True, hue=False)
  found = set()
  for i in range(16):
    line = aug(src[0], np.random.default_rng(i))["line"][..., 0]
    for name, view in [("none", line), ("h", line[:, ::-1]), ("v", line[::-1]),
                       ("hv", line[::-1, ::-1])]:
      windows = np.lib.stride_tricks.sliding_window_view(full, view.shape)
      if (windows == view).all(axis=(2, 3)).any():
        found.add(name)
        break
    else:
      pytest.fail("crop is not a (flipped) window of the source")
  assert found == {"none", "h", "v", "hv"}


def test_hue_rotates_color_only():
  color, line = synthetic.make_pair(0, 0, 64)
  pair = {"color": color, "line": line}
  plain = pipeline.Augment(crop=64, flips=False, hue=False)(pair, np.random.default_rng(3))
  hued = pipeline.Augment(crop=64, flips=False, hue=True)(pair, np.random.default_rng(3))
  np.testing.assert_array_equal(plain["line"], hued["line"])
  assert np.abs(plain["color"].astype(int) - hued["color"].astype(int)).mean() > 5
  gray = np.full((4, 4, 3), 100, np.uint8)
  np.testing.assert_array_equal(pipeline.rotate_hue(gray, 123.0), gray)
  back = pipeline.rotate_hue(pipeline.rotate_hue(color, 90.0), 270.0)
  assert np.abs(back.astype(int) - color.astype(int)).mean() < 4


def _batches(it, n):
  i = iter(it)
  return i, [next(i) for _ in range(n)]


def test_same_batches_for_0_and_2_workers_and_exact_restore():
  src = synthetic.SyntheticSource(seed=1, size=48, length=50)
  make = lambda w: pipeline.make_dataset(src, global_batch=3, seed=7, augment=AUG, workers=w)
  it0, b0 = _batches(make(0), 5)
  it2, b2 = _batches(make(2), 3)
  for x, y in zip(b0, b2):
    np.testing.assert_array_equal(x["color"], y["color"])
    np.testing.assert_array_equal(x["line"], y["line"])
  assert b0[0]["color"].shape == (3, 32, 32, 3) and b0[0]["color"].dtype == np.uint8
  state = it2.get_state()
  resumed = iter(make(2))
  resumed.set_state(state)
  np.testing.assert_array_equal(next(resumed)["color"], b0[3]["color"])
  state0 = it0.get_state()
  again = iter(make(0))
  again.set_state(state0)
  np.testing.assert_array_equal(next(again)["line"], next(it0)["line"])
  del it2, resumed


def test_processes_read_their_rows_of_the_same_global_batches():
  src = synthetic.SyntheticSource(seed=2, size=40, length=20)
  make = lambda i, n, start=0: pipeline.make_dataset(
      src, global_batch=4, seed=0, augment=AUG, process_index=i, process_count=n,
      start_batch=start)
  _, whole = _batches(make(0, 1), 3)
  _, first = _batches(make(0, 2), 3)
  _, second = _batches(make(1, 2), 3)
  for w, a, b in zip(whole, first, second):
    np.testing.assert_array_equal(w["color"], np.concatenate([a["color"], b["color"]]))
  _, later = _batches(make(1, 2, start=2), 1)
  np.testing.assert_array_equal(later[0]["line"], second[2]["line"])
  with pytest.raises(ValueError, match="not divisible"):
    make(0, 3)


def test_synthetic_is_deterministic_aligned_and_varied(tmp_path):
  c1, l1 = synthetic.make_pair(3, 5, 96)
  c2, l2 = synthetic.make_pair(3, 5, 96)
  np.testing.assert_array_equal(c1, c2)
  np.testing.assert_array_equal(l1, l2)
  c3, _ = synthetic.make_pair(3, 6, 96)
  assert not np.array_equal(c1, c3)
  assert l1.min() < 80 and (l1 == 255).mean() > 0.5  # ink on mostly white paper
  ink = l1 < 128
  assert np.abs(c1[ink].astype(int).mean(1) - 255).mean() > 0  # lines also in the color image
  # Aligned: the color image is darkest under the line art at zero shift.
  luma = c1.astype(float).mean(2)[2:-2, 2:-2]
  darkness = {(dy, dx): luma[np.roll(ink, (dy, dx), (0, 1))[2:-2, 2:-2]].mean()
              for dy in range(-2, 3) for dx in range(-2, 3)}
  assert min(darkness, key=darkness.get) == (0, 0)
  synthetic.main([str(tmp_path / "ds"), "--count", "3", "--size", "64"])
  pairs = find_pairs(str(tmp_path / "ds"))
  assert len(pairs) == 3
  np.testing.assert_array_equal(read_line(pairs[1].line), synthetic.make_pair(0, 1, 64)[1])


def test_synthetic_lines_are_a_layer_over_the_fills():
  """Lines are composited over the painted fills (Normal, Multiply, faint), and
  paint laid on top hides them in the color image only where it is painted."""
  canvas = synthetic.Canvas(np.random.default_rng(0), 32)
  canvas.color[:] = 200.0
  alpha, box = canvas.stroke_mask(np.array([[4.0, 16.0], [28.0, 16.0]]), np.array([3.0, 3.0]))
  canvas.ink(alpha, box, np.full(3, 50.0), 0.0)
  on = (slice(32, 33), slice(20, 30))  # supersampled pixels on the line
  normal, faint = canvas.color_image(False, 1.0), canvas.color_image(False, 0.5)
  multiply = canvas.color_image(True, 1.0)
  np.testing.assert_allclose(normal[on], 50.0, atol=1e-3)
  np.testing.assert_allclose(faint[on], 125.0, atol=1e-3)
  np.testing.assert_allclose(multiply[on], 200.0 * 50.0 / 255.0, atol=1e-3)
  np.testing.assert_allclose(canvas.line[on], 0.0, atol=1e-3)
  canvas.color[:] = 90.0  # repainting the fill layer leaves the lines on top
  np.testing.assert_allclose(canvas.color_image(False, 1.0)[on], 50.0, atol=1e-3)
  cover = np.zeros((64, 64), np.float32)
  cover[:, :40] = 1.0  # an opaque sparkle over the left part of the line
  canvas.paint(cover, np.full(3, 255.0))
  result = canvas.color_image(False, 1.0)
  np.testing.assert_allclose(result[32, 20:30], 255.0, atol=1e-3)
  np.testing.assert_allclose(result[32, 44:54], 50.0, atol=1e-3)
  np.testing.assert_allclose(canvas.line[32, 20:30], 0.0, atol=1e-3)  # still line art


def _write(path, img):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  assert cv2.imwrite(path, img if img.ndim == 2 else img[..., ::-1])


def test_validation_finds_problems_and_fixes_shift(tmp_path):
  root = tmp_path / "ds"
  # The estimate on the aligned drawing (phase correlation of edge maps is biased
  # by up to ~1 px where color boundaries have no line): the shift is relative to it.
  base_dx, base_dy = validate.estimate_shift(*synthetic.make_pair(0, 1, 160))
  for i in range(4):
    c, l = synthetic.make_pair(0, i, 160)
    if i == 1:  # 3-pixel shift of the line art (right, down)
      l = cv2.warpAffine(l, np.float32([[1, 0, 3], [0, 1, 0]]), (160, 160),
                         borderValue=255)
    if i == 2:  # aspect mismatch
      l = l[:120]
    _write(str(root / "color" / f"{i}.png"), c)
    _write(str(root / "line" / f"{i}.{'png' if i != 3 else 'webp'}"), l)
  (root / "color" / "4.png").write_bytes(b"not an image")
  _write(str(root / "line" / "4.png"), np.full((8, 8), 255, np.uint8))
  out = tmp_path / "checked"
  results = {os.path.basename(r.pair.color): r for r in
             validate.validate(str(root), str(out), fix=True, show_progress=False)}
  assert results["0.png"].status == "ok"
  assert results["1.png"].status == "shifted" and results["1.png"].fixable
  dx, dy = results["1.png"].shift
  assert abs(dx - base_dx - 3) < 0.5 and abs(dy - base_dy) < 0.5
  assert results["2.png"].status == "aspect"
  assert results["4.png"].status == "unreadable" and "4.png" in results["4.png"].detail
  manifest = find_pairs(str(out / "manifest.tsv"))
  assert len(manifest) == 3  # 0, 3 (webp, lossless enough) and the fixed 1
  fixed = [p for p in manifest if "fixed" in p.color][0]
  c, l = read_color(fixed.color), read_line(fixed.line)
  assert max(abs(v) for v in validate.estimate_shift(c, l)) <= 1.0
  report = (out / "report.tsv").read_text()
  assert "aspect" in report and "unreadable" in report


def test_pack_and_read_back(tmp_path):
  synthetic.write_dataset(str(tmp_path / "ds"), 3, size=64)
  n, errors = packed.pack(find_pairs(str(tmp_path / "ds")), str(tmp_path / "p"),
                          show_progress=False)
  assert n == 3 and not errors
  src = pipeline.open_source(str(tmp_path / "p"), seed=0)
  c, l = synthetic.make_pair(0, 2, 64)
  np.testing.assert_array_equal(src[2]["color"], c)
  np.testing.assert_array_equal(src[2]["line"], l)


def test_bad_file_in_training_is_skipped(tmp_path):
  synthetic.write_dataset(str(tmp_path / "ds"), 3, size=48)
  (tmp_path / "ds" / "color" / "000001.png").write_bytes(b"\x89PNG truncated")
  src = pipeline.FileSource(str(tmp_path / "ds"))
  items = [src[i] for i in range(3)]
  assert src.skipped == 1
  np.testing.assert_array_equal(items[1]["line"], items[2]["line"])


def test_image_decoding_rules(tmp_path):
  rgba = np.zeros((4, 4, 4), np.uint8)
  rgba[..., 2] = 255  # red in BGRA, fully transparent except one pixel
  rgba[0, 0, 3] = 255
  cv2.imwrite(str(tmp_path / "a.png"), rgba)
  c = read_color(str(tmp_path / "a.png"))
  assert c.shape == (4, 4, 3) and tuple(c[0, 0]) == (255, 0, 0) and tuple(c[1, 1]) == (255,) * 3
  cv2.imwrite(str(tmp_path / "g16.png"), np.full((3, 5), 65535, np.uint16))
  assert read_color(str(tmp_path / "g16.png")).shape == (3, 5, 3)
  assert read_line(str(tmp_path / "g16.png")).max() == 255
  with pytest.raises(ImageError, match="exceeds"):
    read_color(str(tmp_path / "a.png"), max_pixels=10)
  with pytest.raises(ImageError, match="cannot read"):
    read_line(str(tmp_path / "missing.png"))


def test_small_pairs_are_padded_with_paper():
  pair = {"color": np.zeros((10, 12, 3), np.uint8), "line": np.zeros((10, 12), np.uint8)}
  out = pipeline.Augment(crop=16, flips=False, hue=False)(pair, np.random.default_rng(0))
  assert out["color"].shape == (16, 16, 3) and out["line"].shape == (16, 16, 1)
  assert (out["line"][10:] == 255).all() and (out["color"][:, 12:] == 255).all()
  assert (out["line"][:10, :12] == 0).all()
  crop = pipeline.center_crop(pair, 16)
  assert crop["line"].shape == (16, 16, 1) and (crop["line"][:10, :12] == 0).all()


def test_gray_paper_is_reported_and_whitened_by_prepare(tmp_path):
  root = tmp_path / "ds"
  _, l = synthetic.make_pair(0, 0, 64)
  c = np.repeat(l[..., None], 3, axis=2)  # black lines on white: exactly aligned
  gray = np.round(l.astype(np.float32) * 0.85).astype(np.uint8)  # paper at 0.85 (a scan)
  _write(str(root / "color" / "a.png"), c)
  _write(str(root / "line" / "a.png"), gray)
  results = validate.validate(str(root), str(tmp_path / "checked"), show_progress=False)
  assert [r.status for r in results] == ["gray-paper"]
  assert "0.85" in results[0].detail
  assert len(find_pairs(str(tmp_path / "checked" / "manifest.tsv"))) == 1  # still usable
  assert prepare.main([str(root), "--out", str(tmp_path / "packed"), "--paper-level",
                       "auto"]) == 0
  line = packed.PackedSource(str(tmp_path / "packed"))[0]["line"]
  assert validate.paper_level(line) == 1.0
  ink = l < 128
  np.testing.assert_allclose(line[ink], l[ink], atol=2)  # ink kept where it was


def test_grain_behaviour_the_pipeline_relies_on():
  """Pins the Grain internals and semantics the pipeline uses, so a release that
  changes them fails here, loudly, instead of silently changing the data."""
  import grain
  base = grain.MapDataset.source(list(range(5)))
  shuffled = pipeline.EpochShuffle(base, seed=3)
  assert shuffled._parent is base  # EpochShuffle subclasses MapDataset and reads _parent
  repeated = shuffled.repeat()
  seen = [repeated[i] for i in range(15)]  # repeat() asks for index epoch * n + i
  assert all(sorted(seen[e * 5:(e + 1) * 5]) == list(range(5)) for e in range(3))
  assert len({tuple(seen[e * 5:(e + 1) * 5]) for e in range(3)}) > 1  # a new order per epoch
  it = iter(repeated.to_iter_dataset())
  next(it)
  state = it.get_state()  # what grain.checkpoint saves
  want = [next(it) for _ in range(3)]
  it.set_state(state)
  assert [next(it) for _ in range(3)] == want
  assert callable(getattr(it, "close", None))  # TrainStream.close stops the workers
  assert hasattr(grain.checkpoint, "CheckpointSave") and hasattr(grain.checkpoint,
                                                                 "CheckpointRestore")


def test_damaged_pack_is_refused_at_open_with_the_file_named(tmp_path):
  synthetic.write_dataset(str(tmp_path / "ds"), 3, size=32)
  packed.pack(find_pairs(str(tmp_path / "ds")), str(tmp_path / "p"), show_progress=False)
  data = tmp_path / "p" / packed.DATA
  full = data.stat().st_size
  os.truncate(data, full - 1000)  # an interrupted copy
  with pytest.raises(ValueError, match=rf"pairs.u8: {full - 1000:,} bytes, but .*index.json "
                     rf"describes {full:,}.*prepare again"):
    packed.PackedSource(str(tmp_path / "p"))
  os.truncate(data, full)
  index = json.loads((tmp_path / "p" / packed.INDEX).read_text())
  index["pairs"][1]["offset"] += 4
  (tmp_path / "p" / packed.INDEX).write_text(json.dumps(index))
  with pytest.raises(ValueError, match=r"index.json: pair 1 starts at byte"):
    packed.PackedSource(str(tmp_path / "p"))


def test_unpaired_files_are_reported(tmp_path):
  synthetic.write_dataset(str(tmp_path / "ds"), 2, size=32)
  os.rename(tmp_path / "ds" / "line" / "000001.png", tmp_path / "ds" / "line" / "misnamed.png")
  results = validate.validate(str(tmp_path / "ds"), str(tmp_path / "out"), show_progress=False)
  unpaired = sorted(os.path.basename(r.pair.color or r.pair.line)
                    for r in results if r.status == "unpaired")
  assert unpaired == ["000001.png", "misnamed.png"]
  report = (tmp_path / "out" / "report.tsv").read_text()
  assert [l.split("\t")[0] for l in report.splitlines()].count("unpaired") == 2


@pytest.mark.parametrize("kind", ["jpeg", "webp"])
def test_bomb_headers_are_refused_before_decoding(tmp_path, monkeypatch, kind):
  path = tmp_path / f"bomb.{kind}"
  if kind == "jpeg":  # a real JPEG whose frame header claims 65535 x 65535 (the format's max)
    ok, buf = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    b = bytearray(buf.tobytes())
    sof = b.index(b"\xff\xc0")
    b[sof + 5:sof + 9] = (65535).to_bytes(2, "big") * 2
  else:  # an extended WebP header claiming 100000 x 100000
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + b"\x00\x00\x00\x00" + \
        (99999).to_bytes(3, "little") * 2
    b = b"RIFF" + (4 + len(vp8x)).to_bytes(4, "little") + b"WEBP" + vp8x
  path.write_bytes(bytes(b))

  def no_decode(*args):
    raise AssertionError("the decoder was called")
  monkeypatch.setattr(cv2, "imdecode", no_decode)
  with pytest.raises(ImageError, match=rf"bomb.{kind}: .* pixels exceeds the limit"):
    read_color(str(path))


def test_synthetic_black_paint_is_not_line_art():
  """Large black areas (backgrounds, clothing, hair) are paint: white paper in the target.

  Real anime art has them; a generator whose only flat black was ink taught the
  model to draw them as flat gray."""
  found = 0
  wider_than_lines = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25))  # brush: <= 12 px
  for index in range(60):
    color, line = synthetic.make_pair(5, index, 192)  # lines' widths are in pixels
    black = (color.max(axis=2) < 35).astype(np.uint8)
    black = cv2.morphologyEx(black, cv2.MORPH_OPEN, wider_than_lines).astype(bool)
    if black.mean() > 0.1:
      found += 1
      assert (line[black] >= 200).mean() > 0.7, index
  assert found >= 3


def test_synthetic_soft_shadow_bands_are_paint_and_fade_out():
  """Hair's shadow bands (wide, soft, dark: a colorist's, not a line) are paint only,
  and their blur fades to nothing: cut off at the stroke's box it would leave a
  faint hard edge, a line the target does not have."""
  rng = np.random.default_rng(0)
  canvas = synthetic.Canvas(rng, 64)
  fill = np.array([120.0, 80.0, 50.0], np.float32)
  canvas.color[:] = fill
  inside = np.ones((canvas.size, canvas.size), np.float32)
  band = np.stack([np.linspace(8, 56, 24), np.full(24, 32.0)], 1)  # across, mid-height
  synthetic._painted_strokes(canvas, rng, inside, fill, [band], widths=(3.0, 3.0),
                             kind="taper", blur=(2.5, 2.5), darken=(0.3, 0.3))
  assert canvas.line.min() == 255.0  # not line art
  darkening = (fill.sum() - canvas.color.sum(axis=2))[:, canvas.size // 2]  # down one column
  assert darkening.max() > 30  # it painted a dark band
  assert np.abs(np.diff(darkening)).max() < 0.25 * darkening.max()  # smooth: no step
  assert darkening[0] < 0.01 and darkening[-1] < 0.01  # and it fades out


def test_synthetic_lines_the_color_image_hides_are_not_in_the_target():
  """Black ink on black paint is invisible: the target drops it (a model taught to
  guess such lines draws strokes on dark shading), and keeps the same ink on white."""
  rng = np.random.default_rng(0)
  canvas = synthetic.Canvas(rng, 64)
  canvas.color[:, :32 * synthetic.SUPERSAMPLE] = 8.0  # left half black paint, right white
  canvas.color[:, 32 * synthetic.SUPERSAMPLE:] = 250.0
  across = np.stack([np.linspace(4, 60, 30), np.full(30, 32.0)], 1)
  alpha, box = canvas.stroke_mask(across, np.full(30, 2.0))
  canvas.ink(alpha, box, np.full(3, 10.0), 10.0)
  color, line = canvas.result()
  row = line[32]
  assert row[6:26].min() > 240  # on black: gone from the target
  assert row[38:58].max() < 60  # on white: kept, as dark as drawn
  assert color[32, 38:58].max() < 60  # and the color image shows it


def test_synthetic_small_black_shapes_are_ink_not_paint():
  """Black paint covers large shapes only; a small flat black area is ink (a pupil).

  A generator that painted small black shapes as often as it inked them taught
  the model to draw real pupils and sunglasses light gray."""
  size, black_painted = 128, 0
  for index in range(150):
    rng = np.random.default_rng([9, index])
    canvas = synthetic.Canvas(rng, size)
    canvas.color[:] = 255.0
    synthetic._shape(canvas, synthetic.Pen(rng), rng, size)
    color, line = canvas.result()
    black_paint = (color.max(axis=2) < 40) & (line > 200)
    if black_paint.sum() > 5:
      black_painted += 1
      ys, xs = np.nonzero(color.min(axis=2) < 200)
      assert max(np.ptp(ys), np.ptp(xs)) >= 0.12 * size, index
  assert black_painted >= 5


def test_synthetic_colored_lines_are_thin():
  """A line in a darker shade of the fill beside it is thin; a wide stroke in that
  shade is a colorist's (hair shading), which a model must not learn as line art,
  so wide lines are neutral ink."""
  fill = np.array([220.0, 120.0, 40.0], np.float32)  # orange hair
  tinted = {}
  for width in (1.5, 8.0):
    tinted[width] = 0
    for index in range(40):
      rng = np.random.default_rng([4, index])
      canvas = synthetic.Canvas(rng, 48)
      canvas.color[:] = fill
      pen = synthetic.Pen(rng)
      pen.colored = True
      across = np.stack([np.linspace(4, 44, 20), np.full(20, 24.0)], 1)
      pen.draw(canvas, across, fill, width, "even")
      core = canvas.ink_rgb[canvas.ink_alpha > 0.5]
      tinted[width] += bool(np.ptp(core.mean(axis=0)) > 20)  # red and blue apart: a shade
  assert tinted[1.5] >= 20  # most thin lines take the shade (80 % of a colored pen's)
  assert tinted[8.0] <= 4  # only the rare line almost the fill's color (3 %), which
  # the color image barely shows


def _drawn_alone(element, seed: int, size: int, paper: float):
  """(color, line) as float32 of one generator element (``synthetic._shape``,
  ``synthetic._spike``) drawn by itself on a plain canvas of gray ``paper``."""
  rng = np.random.default_rng(seed)
  canvas = synthetic.Canvas(rng, size)
  canvas.color[:] = paper
  element(canvas, synthetic.Pen(rng), rng, size)
  return tuple(np.asarray(a, np.float32) for a in canvas.result(False, 1.0))


def test_synthetic_deep_colored_shapes_are_paint_at_any_size():
  """Deep hued fills (dark red ribbons, navy cloth) are as dark as ink by
  luminance but paint, small ones too: the target is paper inside them.  Small
  shapes used to be only light or mid-toned, and a model trained so filled real
  dark red ribbons with ink."""
  deep = paper = 0
  size = 96
  for seed in range(160):
    color, line = _drawn_alone(synthetic._shape, seed, size, 255.0)
    painted = (color.min(-1) < 250).astype(np.uint8)
    inside = cv2.erode(painted, np.ones((7, 7), np.uint8)).astype(bool)
    if inside.sum() < 9 or painted.sum() > np.pi * (synthetic.LARGE_PAINT * size) ** 2:
      continue  # only small shapes
    rgb = np.median(color[inside], axis=0)
    if rgb @ np.array([0.299, 0.587, 0.114]) < 90 and rgb.max() - rgb.min() > 40:
      deep += 1
      paper += np.mean(line[inside] > 200) > 0.5  # folds inside are lines; no fill is
  assert deep >= 5  # 15 % of shapes take a deep fill (chance alone: under 1 in 100)
  assert paper == deep


def test_synthetic_ink_spots_are_smaller_than_any_black_paint():
  """Small black areas are ink and large ones paint (``synthetic._ink_spot``,
  ``_shape``): the largest spot must stay well under the smallest black paint,
  or the two overlap and a model can only hedge, drawing a spot's inside gray."""
  size = 192
  spot = lambda canvas, pen, rng, size: synthetic._ink_spot(canvas, rng, size)
  spots = [int((_drawn_alone(spot, seed, size, 255.0)[1] < 128).sum()) for seed in range(80)]
  rng = np.random.default_rng(0)
  paint = [cv2.contourArea(synthetic._blob(rng, size, radius=synthetic.LARGE_PAINT * size)
                           .astype(np.float32)) for _ in range(400)]
  assert np.mean(np.array(spots) > 0) > 0.9  # (a catch-light may cover a tiny one)
  assert max(spots) < 0.6 * min(paint)


def test_synthetic_spikes_are_painted_with_only_their_outline_in_the_target():
  """A narrow tapered spike in a hue has a brush stroke's silhouette but is paint:
  the target draws its outline and leaves paper inside (a model that saw only
  ink there filled real dark red spikes)."""
  inside_px = paper_px = outlined = 0
  for seed in range(12):
    color, line = _drawn_alone(synthetic._spike, seed, 256, 250.0)
    painted = (np.abs(color - 250.0).max(-1) > 30).astype(np.uint8)
    inside = cv2.erode(painted, np.ones((7, 7), np.uint8)).astype(bool)
    inside_px += inside.sum()
    paper_px += (line[inside] > 200).sum()
    outlined += (line < 200).sum() > 20
  assert inside_px > 200  # the spikes have an inside to speak of
  assert paper_px > 0.9 * inside_px
  assert outlined >= 8  # 87 % have an outline (the rest: a color boundary with no line)


def test_synthetic_spread_widens_the_color_images_lines_only():
  """A colorization network thickens the sketch lines it paints over: widened
  (``Canvas.result(widen=)``, or ``make_pair(spread=)`` for a fraction of the
  pairs) the color image's line is wider and still dark at its core; the target
  is unchanged."""
  rng = np.random.default_rng(0)
  canvas = synthetic.Canvas(rng, 48)
  canvas.color[:] = 230.0
  across = np.stack([np.linspace(4, 44, 20), np.full(20, 24.0)], 1)
  alpha, box = canvas.stroke_mask(across, np.full(20, 1.5))
  canvas.ink(alpha, box, np.full(3, 20.0), 20.0)
  color, line = canvas.result()
  wide_color, wide_line = canvas.result(widen=1.0)
  dark = lambda image: (image[:, 24].mean(axis=-1) < 128).sum()  # px down one column
  assert dark(wide_color) >= dark(color) + 2
  assert wide_color[24, 10:38].max() < 60  # the core stays dark
  # the target is the same (but for the line's faint anti-aliased tips, which the
  # wider line makes a little more visible, so less faded)
  np.testing.assert_array_equal(wide_line[:, 8:40], line[:, 8:40])
  widened = sum(not np.array_equal(synthetic.make_pair(4, i, 64, spread=1.0)[0],
                                   synthetic.make_pair(4, i, 64)[0]) for i in range(4))
  assert widened == 4
