import os

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lineart_jax import infer, sharding, tiling
from lineart_jax.checkpointing import Checkpointer, load_variables
from lineart_jax.model import AutoEncoder, ModelConfig
from lineart_jax.train_step import create_train_state

WIDTH = 0.0625


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("run")
  mesh = sharding.make_mesh(jax.devices()[:1])
  model = AutoEncoder(width=WIDTH)
  state = create_train_state(model, optax.sgd(0.1), 0, mesh)
  # Non-trivial BatchNorm statistics, so that eval mode is really exercised.
  state = state.replace(batch_stats=jax.tree.map(lambda s: s + 0.3, state.batch_stats),
                        step=state.step + 7)
  ckpt = Checkpointer(str(workdir / "checkpoints"), ModelConfig(WIDTH))
  ckpt.save(7, state, None)
  ckpt.wait()
  ckpt.close()
  return str(workdir)


def _smooth_image(h, w, seed=0):
  rng = np.random.default_rng(seed)
  small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
  return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def test_tiled_equals_untiled_on_odd_sized_image(checkpoint):
  _, variables, step = load_variables(checkpoint)
  assert step == 7
  model = AutoEncoder(width=WIDTH)
  apply = jax.jit(lambda x: model.apply(variables, x.astype(jnp.float32) / 255.0,
                                        train=False)[..., 0])
  image = _smooth_image(301, 419)
  untiled = np.asarray(apply(image[None]))[0]
  assert tiling.count_tiles(301, 419, 256) > 1
  tiled = tiling.predict_tiled(image, lambda b: np.asarray(apply(b)), tile=256, batch=2)
  assert tiled.shape == untiled.shape == (301, 419)
  assert np.abs(tiled - untiled).max() <= 1 / 255
  # A margin below the receptive radius really would break equality:
  starts = tiling.window_starts(304, 256, margin=8)
  assert len(starts) > 1


def test_folder_with_odd_sizes_rgba_gray_and_a_corrupt_file(checkpoint, tmp_path):
  src = tmp_path / "in"
  src.mkdir()
  cv2.imwrite(str(src / "rgb.png"), _smooth_image(37, 53)[..., ::-1])
  rgba = np.dstack([_smooth_image(20, 9), np.full((20, 9), 128, np.uint8)])
  cv2.imwrite(str(src / "rgba.png"), rgba)
  cv2.imwrite(str(src / "gray.jpg"), _smooth_image(300, 270)[..., 0])
  (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
  out = tmp_path / "out"
  rc = infer.main([str(src), "--workdir", checkpoint, "--out", str(out), "--tile", "256"])
  assert rc == 1  # the corrupt file, listed with its reason beside the outputs
  failures = (out / "lineart_failures.tsv").read_text().splitlines()
  assert failures[1:] == [f"{src / 'broken.png'}\tnot a decodable image (truncated or "
                          "unsupported format)"]
  results = {f: cv2.imread(str(out / f), cv2.IMREAD_UNCHANGED) for f in os.listdir(out)
             if f.endswith(".png")}
  assert set(results) == {"rgb_lineart.png", "rgba_lineart.png", "gray_lineart.png"}
  assert results["rgb_lineart.png"].shape == (37, 53)
  assert results["rgba_lineart.png"].shape == (20, 9)
  assert results["gray_lineart.png"].shape == (300, 270)
  assert all(r.dtype == np.uint8 for r in results.values())


def test_opencv_method_threshold_and_max_side(tmp_path):
  path = tmp_path / "a.png"
  cv2.imwrite(str(path), _smooth_image(64, 96)[..., ::-1])
  assert infer.main([str(path), "--method", "opencv", "--threshold", "0.5",
                     "--max-side", "32"]) == 0
  result = cv2.imread(str(tmp_path / "a_lineart.png"), cv2.IMREAD_UNCHANGED)
  assert result.shape == (64, 96) and set(np.unique(result)) <= {0, 255}
  assert infer.main([str(tmp_path / "missing*.png"), "--method", "opencv"]) == 1


def test_many_tiles_get_a_progress_bar(checkpoint, tmp_path, capsys):
  path = tmp_path / "big.png"
  cv2.imwrite(str(path), _smooth_image(520, 600)[..., ::-1])
  assert infer.main([str(path), "--workdir", checkpoint, "--tile", "256", "--batch", "3"]) == 0
  err = capsys.readouterr().err
  n = tiling.count_tiles(520, 600, 256)
  assert n > infer.TILE_PROGRESS_ABOVE and "tiles of big.png" in err and f"{n}/{n}" in err
  assert cv2.imread(str(tmp_path / "big_lineart.png"), cv2.IMREAD_UNCHANGED).shape == (520, 600)
