"""The Python API (``lineart_jax.LineArtExtractor``): the shipped model in a line
style gives what ``infer`` gives and what the network computes, for an array, a
path and a list; weights folders, workdirs and ONNX exports load; bad input is
named."""

import jax
import numpy as np
import optax
import pytest
from PIL import Image

import lineart_jax
from lineart_jax import infer, pretrained, sharding
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import ImageError, read_line, write_png
from lineart_jax.model import AutoEncoder, ModelConfig, from_config, predict_lines
from lineart_jax.style import Style

STYLE = dict(line_weight=1.5, detail=0.5, tone="dark", blacks="ink")
FLAGS = ["--line-weight", "1.5", "--detail", "0.5", "--tone", "dark", "--blacks", "ink"]


@pytest.fixture(scope="module")
def shipped():
  return lineart_jax.LineArtExtractor.from_pretrained()


def _image(seed, h=64, w=96):
  return synthetic.make_pair(seed, 0, max(h, w))[0][:h, :w]


def test_the_api_equals_infer_and_the_network_for_the_shipped_model_in_a_style(
    shipped, tmp_path):
  images = [_image(1), _image(2), _image(3, 72, 56)]
  paths = []
  for i, image in enumerate(images):
    paths.append(str(tmp_path / f"{i}.png"))
    write_png(paths[-1], image)
  assert infer.main([*paths, "--out", str(tmp_path / "out"), *FLAGS]) == 0
  from_infer = [read_line(str(tmp_path / "out" / f"{i}_lineart.png")).astype(int)
                for i in range(3)]
  # the network itself, untiled, in the style's vector
  cfg, variables, _ = pretrained.load()
  vector = Style(**STYLE).vector(cfg.style_dims)
  network = [np.asarray(predict_lines(from_config(cfg), variables, im[None], vector))[0]
             for im in images]

  one_array = shipped(images[0], **STYLE)
  one_path = shipped(paths[1], **STYLE, dtype="uint8")
  a_list = shipped([paths[0], images[1], Image.fromarray(images[2])], **STYLE, dtype="uint8")
  assert one_array.dtype == np.float32 and one_array.shape == (64, 96)
  assert 0.0 <= one_array.min() and one_array.max() <= 1.0
  assert np.abs(one_array - network[0]).max() <= 1 / 255
  assert one_path.dtype == np.uint8 and np.abs(one_path - from_infer[1]).max() <= 1
  assert isinstance(a_list, list) and [a.shape for a in a_list] == [(64, 96), (64, 96), (72, 56)]
  for got, want, net in zip(a_list, from_infer, network):
    assert np.abs(got.astype(int) - want).max() <= 1
    assert np.abs(got.astype(int) - np.round(net * 255)).max() <= 1
  # the style is drawn (not the default) and a batch array gives a batch back
  default = shipped(images[0], dtype="uint8").astype(int)
  assert np.abs(default - from_infer[0]).max() > 10
  batch = shipped(np.stack(images[:2]), **STYLE, dtype="uint8")
  assert batch.shape == (2, 64, 96) and np.array_equal(batch[0], a_list[0])
  # threshold and max_side as infer's
  binary = shipped(images[0], **STYLE, threshold=0.5)
  assert set(np.unique(binary)) <= {0.0, 1.0}
  assert np.array_equal(binary, (one_array >= 0.5).astype(np.float32))
  assert infer.main([paths[0], "--out", str(tmp_path / "small"), "--max-side", "48", *FLAGS]) == 0
  small = shipped(paths[0], **STYLE, max_side=48, dtype="uint8").astype(int)
  assert np.abs(small - read_line(str(tmp_path / "small" / "0_lineart.png"))).max() <= 1


def test_bad_input_and_styles_are_refused_by_name(shipped, tmp_path):
  image = _image(4)
  # the shipped model has the contours entry (weights with five entries refuse
  # contours=all: tests/test_style.py)
  assert shipped(image, contours="all").shape == image.shape[:2]
  with pytest.raises(ValueError, match="contours 'every'"):
    shipped(image, contours="every")
  with pytest.raises(ValueError, match="line weight 3"):
    shipped(image, line_weight=3)
  with pytest.raises(TypeError, match="image 0: uint8 pixels"):
    shipped([image.astype(np.float32)])
  with pytest.raises(ValueError, match=r"image 1: .* got shape \(64, 96, 2\)"):
    shipped([image, image[..., :2]])
  missing = str(tmp_path / "missing.png")
  with pytest.raises(ImageError, match="missing.png: cannot read file"):
    shipped([image, missing])
  with pytest.raises(ValueError, match="dtype int16"):
    shipped(image, dtype="int16")
  with pytest.raises(FileNotFoundError, match="nowhere: no such"):
    lineart_jax.LineArtExtractor.load(str(tmp_path / "nowhere"))
  # RGBA arrays and PIL images are composited over white, as image files are
  rgba = np.dstack([image, np.full(image.shape[:2], 0, np.uint8)])
  white = np.full_like(image, 255)
  assert np.array_equal(shipped(rgba, dtype="uint8"), shipped(white, dtype="uint8"))
  assert np.array_equal(shipped(Image.fromarray(rgba), dtype="uint8"),
                        shipped(white, dtype="uint8"))


def test_weights_folder_workdir_and_onnx_export_load_and_agree(tmp_path):
  from lineart_jax import export
  from lineart_jax.checkpointing import Checkpointer
  from lineart_jax.train_step import create_train_state
  width = 0.0625
  model = AutoEncoder(width=width)
  state = create_train_state(model, optax.sgd(0.1), 0, sharding.make_mesh(jax.devices()[:1]))
  state = state.replace(batch_stats=jax.tree.map(lambda s: s + 0.3, state.batch_stats))
  ckpt = Checkpointer(str(tmp_path / "run" / "checkpoints"), ModelConfig(width))
  ckpt.save(3, state, None)
  ckpt.wait()
  ckpt.close()
  pretrained.save(ModelConfig(width), jax.device_get({"params": state.params,
                                                      "batch_stats": state.batch_stats}),
                  {"step": 3}, str(tmp_path / "weights"))
  export.export_model(str(tmp_path / "weights"), str(tmp_path / "m.onnx"), "onnx")
  image = _image(5, 72, 104)
  results = {}
  for source in ("run", "weights", "m.onnx"):
    extractor = lineart_jax.LineArtExtractor.load(str(tmp_path / source), tile=256)
    results[source] = extractor(image, dtype="uint8").astype(int)
    assert str(tmp_path / source) in extractor.description
  assert np.array_equal(results["run"], results["weights"])
  assert np.abs(results["m.onnx"] - results["weights"]).max() <= 1
  with pytest.raises(ValueError, match="has no style input"):
    lineart_jax.LineArtExtractor.load(str(tmp_path / "m.onnx"))(image, tone="dark")
