"""Line style (``lineart_jax.style``): the style input's layers start at zero, so the
default style is the model it extends; the generator draws each control into the
line art only; the style travels with a pair from ``style.tsv`` to the batch."""

import dataclasses
import os

import jax
import numpy as np
import pytest

from lineart_jax import style as style_lib
from lineart_jax.data import pipeline, synthetic
from lineart_jax.data.packed import PackedSource, pack
from lineart_jax.data.pairs import pairs_from_root, read_styles, write_styles
from lineart_jax.model import (INPUT_STYLE_LAYER, STYLE_INPUTS, STYLE_SUFFIX, AutoEncoder,
                               ModelConfig, extend_variables, fold_batchnorm, from_config,
                               init_variables, predict_lines)
from lineart_jax.style import Style

from subprocess_env import REPO

WIDTH = 0.0625
CFG = ModelConfig(WIDTH, style_dims=style_lib.DIMS)


def _image(h, w, seed=0):
  return synthetic.make_pair(seed, 0, max(h, w))[0][:h, :w]


@pytest.fixture(scope="module")
def base_weights():
  """Seed-network weights with real BatchNorm statistics (a lively output)."""
  import jax.numpy as jnp
  variables = jax.tree.map(np.asarray, init_variables(AutoEncoder(width=WIDTH), 0))
  x = jnp.asarray(_image(64, 64)[None], jnp.float32) / 255.0
  _, stats = AutoEncoder(width=WIDTH, bn_momentum=0.0).apply(
      variables, x, train=True, mutable=["batch_stats"])
  params = jax.tree.map(np.asarray, variables["params"])
  params["decoder3_flat2"]["kernel"] = params["decoder3_flat2"]["kernel"] * 10
  return jax.tree.map(np.asarray, {"params": params, **stats})


def _randomize_style_layers(variables, seed, scale):
  """``variables`` with every style layer's kernel drawn at random: a trained-like
  style model (in place; returned).  ``scale`` is for a fan-in of the style's
  entries (FiLM's maps); a kernel with a larger fan-in (the input-channel
  variant's 5x5 convolution) is drawn smaller by the square root of the ratio, so
  that both give activations of one size."""
  rng = np.random.default_rng(seed)
  for name in variables["params"]:
    if name.endswith(STYLE_SUFFIX):
      kernel = variables["params"][name]["kernel"]
      std = scale * np.sqrt(style_lib.DIMS / np.prod(kernel.shape[:-1]))
      variables["params"][name]["kernel"] = rng.normal(0, std, kernel.shape).astype(np.float32)
  return variables


def test_style_vector_round_trip_and_errors():
  for st in [Style(), Style(0.5, 0.0, "dark", "ink"), Style(2.0, 0.25, "drawn", "paint"),
             Style(contours="all")]:
    v = st.vector()
    assert v.shape == (style_lib.DIMS,) and (not np.any(v)) == st.is_default
    back = Style.from_vector(v)
    assert back.tone == st.tone and back.blacks == st.blacks and back.contours == st.contours
    assert np.isclose(back.line_weight, st.line_weight) and np.isclose(back.detail, st.detail)
  with pytest.raises(ValueError, match="line weight 3"):
    Style(line_weight=3)
  with pytest.raises(ValueError, match="tone 'bold'"):
    Style(tone="bold")
  with pytest.raises(ValueError, match="style_dims=4"):
    ModelConfig(WIDTH, style_dims=4)
  with pytest.raises(ValueError, match="contours 'every'"):
    Style(contours="every")
  # a five-entry vector (models made before contours) is contours=drawn
  legacy = Style(0.5, 0.0, "dark", "ink").vector(style_lib.LEGACY_DIMS)
  assert legacy.shape == (5,) and Style.from_vector(legacy) == Style(0.5, 0.0, "dark", "ink")
  with pytest.raises(ValueError, match="contours=all needs"):
    Style(contours="all").vector(style_lib.LEGACY_DIMS)
  np.testing.assert_array_equal(style_lib.fit_vector(legacy, style_lib.DIMS)[:5], legacy)
  with pytest.raises(ValueError, match="contours_all"):
    style_lib.fit_vector(Style(contours="all").vector(), style_lib.LEGACY_DIMS)


def test_training_styles_draw_detail_as_0_or_1_and_each_control_off_its_default():
  """``style.sample``: detail only 0 or 1 (a target keeping a random share of the
  detail strokes taught the network to hedge on all of them), line weight within
  its range and exact at 4 decimals, and every setting of each control drawn."""
  rng = np.random.default_rng(0)
  styles = [style_lib.sample(rng) for _ in range(2000)]
  assert {s.detail for s in styles} == {0.0, 1.0}
  assert 0.2 < np.mean([s.detail == 0.0 for s in styles]) < 0.5
  weights = np.array([s.line_weight for s in styles])
  assert weights.min() >= 0.5 and weights.max() <= 2.0 and np.all(np.round(weights, 4) == weights)
  assert len(set(weights)) > 100  # spread over the range, not a few values
  assert {s.tone for s in styles} == set(style_lib.TONES)
  assert {s.blacks for s in styles} == set(style_lib.BLACKS)
  assert 0.2 < np.mean([s.is_default for s in styles]) < 0.4


@pytest.mark.parametrize("style_input", STYLE_INPUTS)
def test_style_layers_start_at_zero_so_the_default_style_is_the_base_model(base_weights,
                                                                           style_input):
  x = _image(40, 56)[None]
  want = np.asarray(predict_lines(AutoEncoder(width=WIDTH), base_weights, x))
  assert want.std() > 0.05  # a real test: the output is far from constant
  cfg = dataclasses.replace(CFG, style_input=style_input)
  model = from_config(cfg)
  fresh = jax.tree.map(np.asarray, init_variables(model, 1))
  merged, new = extend_variables(fresh, base_weights)
  assert new and all(n.endswith(STYLE_SUFFIX) for n in new)
  assert set(new) == ({bn + STYLE_SUFFIX for bn in fresh["batch_stats"]}
                      if style_input == "film" else {INPUT_STYLE_LAYER})
  assert all(not np.any(fresh["params"][n]["kernel"]) for n in new)
  # at init every style in the drawn tone is the base model (tone=dark is the
  # weight-free darken_lines: the next test); after training, the default style
  # still leaves every layer as without style layers (bias-free, linear in the offsets)
  for st in [None, Style().vector(), Style(2.0, 0.0, "drawn", "ink").vector()]:
    np.testing.assert_array_equal(np.asarray(predict_lines(model, merged, x, st)), want)
  _randomize_style_layers(merged, 0, 0.3)
  np.testing.assert_array_equal(np.asarray(predict_lines(model, merged, x)), want)
  styled = np.asarray(predict_lines(model, merged, x, Style(2.0, 0.0, "dark", "ink").vector()))
  assert np.abs(styled - want).max() > 0.01  # the style layers are wired in
  folded = predict_lines(from_config(cfg, batchnorm_folded=True), fold_batchnorm(merged), x,
                         Style(2.0, 0.0, "dark", "ink").vector())
  np.testing.assert_allclose(np.asarray(folded), styled, atol=1e-4)
  with pytest.raises(ValueError, match="no style input"):
    predict_lines(AutoEncoder(width=WIDTH), base_weights, x, Style().vector())


def _pen(rng, medium="ink", gray=30.0):
  pen = synthetic.Pen(rng)
  pen.medium, pen.gray, pen.colored = medium, gray, False
  return pen


def _stroke(st: Style, detail=False, medium="ink", gray=30.0, width=2.0):
  """(color, line) of one horizontal stroke across a white 64-px canvas."""
  rng = np.random.default_rng(1)
  canvas = synthetic.Canvas(rng, 64, st, np.random.default_rng(2))
  canvas.color[:] = 255.0
  pts = np.stack([np.linspace(8, 56, 20), np.full(20, 32.0)], 1)
  _pen(rng, medium, gray).draw(canvas, pts, None, width, "even", detail=detail)
  return canvas.result()


def test_generator_draws_each_control_into_the_line_art_only():
  color, base = _stroke(Style())
  ink = lambda line: int((line < 128).sum())
  widths = [ink(_stroke(Style(line_weight=w))[1]) for w in (0.5, 1.0, 2.0)]
  assert widths[0] < widths[1] < widths[2] and widths[2] > 1.6 * widths[1]
  for st in [Style(0.5), Style(2.0), Style(detail=0.0), Style(tone="dark")]:
    np.testing.assert_array_equal(_stroke(st)[0], color)  # the color image is the style's
  assert ink(_stroke(Style(detail=0.0), detail=True)[1]) == 0  # a detail stroke leaves
  assert ink(_stroke(Style(detail=0.0), detail=False)[1]) == ink(base)  # an outline stays
  drawn = _stroke(Style(), medium="pencil", gray=140.0)[1]
  dark = _stroke(Style(tone="dark"), medium="pencil", gray=140.0)[1]
  assert drawn.min() > 80 and dark.min() < 10  # a pencil line's core at full ink
  assert np.array_equal(drawn < 255, dark < 255)  # no ink where there was none


def test_generator_blacks_ink_fills_and_paint_outlines():
  def spot(blacks):
    rng = np.random.default_rng(3)  # a spot of 414 px
    canvas = synthetic.Canvas(rng, 256, Style(blacks=blacks), np.random.default_rng(5))
    canvas.color[:] = 255.0
    synthetic._ink_spot(canvas, rng, 256)
    return canvas.result()
  (c_auto, auto), (c_paint, paint) = spot("auto"), spot("paint")
  np.testing.assert_array_equal(c_auto, c_paint)
  inside = cv2_erode(auto < 40, 3)  # well inside the spot
  assert inside.sum() > 20 and paint[inside].min() > 200  # paint: its inside is paper
  assert (paint < 128).sum() > 0.5 * (cv2_dilate(auto < 128, 2) ^ cv2_erode(auto < 128, 2)).sum() / 2
  # a large black dress: paint (paper) by default, ink with blacks=ink
  lines = {b: synthetic.make_pair(11, i, 128, style=Style(blacks=b))[1]
           for b in ("auto", "ink") for i in [0]}
  found = False
  for i in range(40):
    a = synthetic.make_pair(11, i, 128, style=Style())
    k = synthetic.make_pair(11, i, 128, style=Style(blacks="ink"))
    np.testing.assert_array_equal(a[0], k[0])
    if (k[1] < 100).sum() > 3 * (a[1] < 100).sum() + 200:
      found = True
      dark_paint = (a[0].mean(2) < 90) & (k[1] < 100)
      assert dark_paint.sum() > 100 and np.all(a[1][dark_paint] > 0)
      break
  assert found and lines


def cv2_erode(mask, r):
  import cv2
  return cv2.erode(mask.astype(np.uint8), np.ones((2 * r + 1,) * 2, np.uint8)).astype(bool)


def cv2_dilate(mask, r):
  import cv2
  return cv2.dilate(mask.astype(np.uint8), np.ones((2 * r + 1,) * 2, np.uint8)).astype(bool)


def test_style_travels_from_style_tsv_through_packing_to_the_batch(tmp_path):
  root = tmp_path / "syn"
  synthetic.write_dataset(str(root), 4, seed=3, size=48, styles=True)
  styles = read_styles(str(root))
  assert sorted(styles) == [f"{i:06d}" for i in range(4)]
  assert styles == {f"{i:06d}": synthetic.pair_style(3, i) for i in range(4)}
  pairs, _ = pairs_from_root(str(root))
  n, errors = pack(pairs, str(tmp_path / "packed"), show_progress=False)
  assert n == 4 and not errors
  src = PackedSource(str(tmp_path / "packed"))
  for i in range(4):
    np.testing.assert_array_equal(src[i]["style"], synthetic.pair_style(3, i).vector())
    color, line = synthetic.make_pair(3, i, 48, style=synthetic.pair_style(3, i))
    np.testing.assert_array_equal(src[i]["line"], line)
  aug = pipeline.Augment(crop=32, style_dims=style_lib.DIMS)
  out = aug(src[1], np.random.default_rng(0))
  np.testing.assert_array_equal(out["style"], synthetic.pair_style(3, 1).vector())
  assert "style" not in pipeline.Augment(crop=32)(src[1], np.random.default_rng(0))
  plain = {"color": src[1]["color"], "line": src[1]["line"]}  # unstyled: the default
  np.testing.assert_array_equal(aug(plain, np.random.default_rng(0))["style"],
                                np.zeros(style_lib.DIMS, np.float32))
  (root / "style.tsv").write_text("000001\t9\t1\tdrawn\tauto\n")
  with pytest.raises(ValueError, match=r"style.tsv:1: line weight 9"):
    read_styles(str(root))
  write_styles(str(root), {"000001": Style(tone="dark")})
  assert read_styles(str(root)) == {"000001": Style(tone="dark")}


@pytest.fixture(scope="module")
def style_weights(base_weights, tmp_path_factory):
  """A tiny style model in the shipped format: the base weights, style layers random."""
  from lineart_jax import pretrained
  fresh = jax.tree.map(np.asarray, init_variables(from_config(CFG), 1))
  merged, new = extend_variables(fresh, base_weights)
  rng = np.random.default_rng(3)
  for n in new:
    merged["params"][n]["kernel"] = rng.normal(0, 0.3, merged["params"][n]["kernel"].shape
                                               ).astype(np.float32)
  out = tmp_path_factory.mktemp("style_model")
  pretrained.save(CFG, merged, {"step": 1}, str(out))
  return str(out), merged


DARK_THICK = ["--line-weight", "2", "--tone", "dark", "--blacks", "paint", "--detail", "0.5"]


def test_infer_draws_the_requested_style_and_refuses_it_without_a_style_input(
    style_weights, base_weights, tmp_path, capsys):
  from lineart_jax import infer
  from lineart_jax.data.imageio import read_line, write_png
  folder, variables = style_weights
  image = _image(90, 70)
  write_png(str(tmp_path / "a.png"), image)
  outs = {}
  for name, flags in (("default", []), ("styled", DARK_THICK)):
    assert infer.main([str(tmp_path / "a.png"), "--checkpoint", folder, "--out",
                       str(tmp_path / name), *flags]) == 0
    outs[name] = read_line(str(tmp_path / name / "a_lineart.png")).astype(int)
  st = Style(2.0, 0.5, "dark", "paint")
  for name, vec in (("default", None), ("styled", st.vector())):
    want = np.asarray(predict_lines(from_config(CFG), variables, image[None], vec))[0]
    assert np.abs(outs[name] - np.round(want * 255)).max() <= 1
  assert np.abs(outs["styled"] - outs["default"]).max() > 3
  assert "style: line weight 2, detail 0.5, tone dark, blacks paint" in capsys.readouterr().err
  # a model with no style input: the default style works, any other is refused by name
  from lineart_jax import pretrained
  plain = tmp_path / "plain"
  pretrained.save(ModelConfig(WIDTH), base_weights, {"step": 1}, str(plain))
  assert infer.main([str(tmp_path / "a.png"), "--checkpoint", str(plain), "--out",
                     str(tmp_path / "p")]) == 0
  assert infer.main([str(tmp_path / "a.png"), "--checkpoint", str(plain), "--tone", "dark",
                     "--out", str(tmp_path / "q")]) == 2
  err = capsys.readouterr().err
  assert "has no style input" in err and str(plain) in err and f"style_dims={style_lib.DIMS}" in err
  assert not (tmp_path / "q").exists() or not list((tmp_path / "q").iterdir())
  with pytest.raises(SystemExit):
    infer.main([str(tmp_path / "a.png"), "--line-weight", "3"])
  assert "line weight 3" in capsys.readouterr().err


def test_export_takes_the_style_as_a_second_input(style_weights, tmp_path):
  import onnxruntime as ort
  from lineart_jax import export, infer
  from lineart_jax.data.imageio import read_line, write_png
  folder, variables = style_weights
  for fmt in ("onnx", "stablehlo"):
    export.export_model(folder, str(tmp_path / f"m.{fmt}"), fmt)
  images = np.stack([_image(40, 48, 0), _image(40, 48, 1)])
  styles = np.stack([Style().vector(), Style(0.5, 0.0, "dark", "ink").vector()])
  want = np.asarray(predict_lines(from_config(CFG), variables, images, styles))
  session = ort.InferenceSession(str(tmp_path / "m.onnx"))
  assert [i.name for i in session.get_inputs()] == ["image", "style"]
  got = session.run(None, {"image": images, "style": styles})[0]
  hlo = jax.export.deserialize(bytearray((tmp_path / "m.stablehlo").read_bytes()))
  assert np.abs(got - want).max() < 1e-4
  assert np.abs(np.asarray(hlo.call(images, styles)) - want).max() < 1e-4
  assert np.abs(want[1] - np.asarray(predict_lines(from_config(CFG), variables,
                                                   images[1:])[0])).max() > 0.01
  # infer --model feeds the style flags to the export's style input
  write_png(str(tmp_path / "a.png"), _image(90, 70))
  for name, args in (("onnx", ["--model", str(tmp_path / "m.onnx")]),
                     ("jax", ["--checkpoint", folder])):
    assert infer.main([str(tmp_path / "a.png"), "--out", str(tmp_path / name), *args,
                       *DARK_THICK]) == 0
  a, b = (read_line(str(tmp_path / n / "a_lineart.png")).astype(int) for n in ("onnx", "jax"))
  assert np.abs(a - b).max() <= 1


def test_calibration_on_a_styled_set_fits_only_its_default_style_pairs(tmp_path):
  from lineart_jax.calibrate import pair_logits
  root = tmp_path / "syn"
  synthetic.write_dataset(str(root), 12, seed=5, size=48, styles=True)
  styles = read_styles(str(root))
  default = sorted(k for k, s in styles.items() if s.is_default)
  assert 0 < len(default) < 12
  seen = []

  def extractor(color):
    seen.append(color)
    return np.full(color.shape[:2], 0.5, np.float32)

  z, targets = pair_logits(extractor, str(root), 30, 48)
  assert len(z) == len(targets) == len(default)
  for key, target in zip(default, targets):
    _, line = synthetic.make_pair(5, int(key), 48)
    np.testing.assert_array_equal(target, line / np.float32(255.0))
  assert len(pair_logits(extractor, str(root), 1, 48)[0]) == 1


def test_train_only_style_trains_the_style_layers_and_keeps_the_base_model(base_weights):
  """config.train_only='style': after real steps the style layers have moved,
  every other parameter and BatchNorm statistic is bit for bit as loaded, and
  the default style still draws exactly the base model."""
  import flax

  from lineart_jax import sharding
  from lineart_jax.train_step import (create_train_state, make_optimizer, make_train_step,
                                      trainable_mask)
  mesh = sharding.make_mesh(jax.devices()[:2])
  model = from_config(CFG)
  optimizer = make_optimizer(1e-2, train_only="style")
  state = create_train_state(model, optimizer, 0, mesh)
  merged, _ = extend_variables(jax.tree.map(np.asarray, {"params": state.params,
                                                         "batch_stats": state.batch_stats}),
                               base_weights)
  params = jax.tree.map(np.asarray, merged["params"])
  state = jax.device_put(state.replace(params=params, batch_stats=merged["batch_stats"],
                                       opt_state=optimizer.init(params)),
                         sharding.replicated(mesh))
  mask = trainable_mask(params, "style")
  # Adam keeps moments only for the style layers
  adam_leaves = sum(x.size for x in jax.tree.leaves(state.opt_state))
  assert adam_leaves <= 2 * sum(p.size for p, m in zip(jax.tree.leaves(params),
                                                      jax.tree.leaves(mask)) if m) + 8
  step = make_train_step(model, optimizer, mesh, 1e-2, train_only="style")
  rng = np.random.default_rng(0)
  colors = np.stack([_image(32, 32, seed) for seed in range(4)])
  for _ in range(3):
    batch = {"color": colors, "line": rng.integers(0, 256, (4, 32, 32, 1), np.uint8),
             "style": np.stack([Style(2.0, 0.0, "dark", "ink").vector()] * 4)}
    state, metrics = step(state, sharding.global_batch(batch, mesh))
    assert float(metrics["grad_norm"]) > 0 and float(metrics["finite"]) == 1
  after = jax.device_get(state)
  flat = flax.traverse_util.flatten_dict
  old, new = flat(params), flat(jax.device_get(after.params))
  for path, m in flat(mask).items():
    assert (np.abs(np.asarray(new[path]) - old[path]).max() > 0) == m, path
  for a, b in zip(jax.tree.leaves(after.batch_stats), jax.tree.leaves(merged["batch_stats"])):
    np.testing.assert_array_equal(a, b)
  x = _image(40, 56)[None]
  want = np.asarray(predict_lines(AutoEncoder(width=WIDTH), base_weights, x))
  trained = {"params": after.params, "batch_stats": after.batch_stats}
  np.testing.assert_array_equal(np.asarray(predict_lines(model, trained, x)), want)
  with pytest.raises(ValueError, match="no style layers"):
    trainable_mask(base_weights["params"], "style")
  with pytest.raises(ValueError, match="train_only='everything'"):
    make_optimizer(1e-2, train_only="everything")


def test_init_from_a_style_model_loads_zeroes_or_drops_its_style_layers(base_weights, tmp_path):
  """init_style_layers='load' continues a style model's style layers, 'zero' starts
  them afresh (the shipped style layers' recipe), as does a config whose style
  enters another way (input channels, not FiLM), and a config without a style
  input takes the network without them; the rest loads as saved, every time."""
  from lineart_jax import pretrained, sharding, trainer
  from lineart_jax.config_files import sibling
  from lineart_jax.train_step import create_train_state, make_optimizer
  model = from_config(CFG)
  saved = _randomize_style_layers(extend_variables(
      jax.tree.map(np.asarray, init_variables(model, 1)), base_weights)[0], 0, 0.1)
  pretrained.save(CFG, saved, {"step": 3}, str(tmp_path))
  mesh = sharding.make_mesh(jax.devices()[:1])
  base = sibling(os.path.join(REPO, "configs", "base.py"), "base")
  dims = style_lib.DIMS
  for style_dims, how, style_input in [(dims, "load", "film"), (dims, "zero", "film"),
                                       (dims, "load", "channels"), (0, "load", "film")]:
    config = base.get_config()
    config.model.width, config.model.style_dims = WIDTH, style_dims
    config.model.style_input = style_input
    config.init_from, config.init_style_layers = str(tmp_path), how
    optimizer = make_optimizer(1e-3)
    state = create_train_state(trainer.build_model(config), optimizer, 0, mesh)
    params = jax.device_get(trainer.init_from(state, config, optimizer, mesh).params)
    style_layers = {n for n in params if n.endswith(STYLE_SUFFIX)}
    assert bool(style_layers) == bool(style_dims), (style_dims, how)
    for name, layer in params.items():
      for k, a in layer.items():
        afresh = how == "zero" or style_input != "film"
        want = (np.zeros_like(a) if name in style_layers and afresh
                else saved["params"][name][k])
        np.testing.assert_array_equal(a, want, err_msg=f"{how}: {name}/{k}")
  config.init_style_layers = "random"
  with pytest.raises(ValueError, match="init_style_layers='random'"):
    trainer.init_from(state, config, optimizer, mesh)


def test_style_layers_made_before_contours_load_with_a_zero_row_and_draw_as_before(
    tmp_path, base_weights):
  """A model with the first five style entries (made before ``contours``) loads
  into a six-entry config: its FiLM kernels gain a zero row for ``contours``, so
  every style it could draw comes out as before, and it refuses contours=all."""
  from lineart_jax import pretrained, sharding, trainer
  from lineart_jax.config_files import sibling
  from lineart_jax.train_step import create_train_state, make_optimizer
  legacy_cfg = ModelConfig(WIDTH, style_dims=style_lib.LEGACY_DIMS)
  legacy = _randomize_style_layers(extend_variables(
      jax.tree.map(np.asarray, init_variables(from_config(legacy_cfg), 1)), base_weights)[0],
      1, 0.1)
  pretrained.save(legacy_cfg, legacy, {"step": 3}, str(tmp_path))
  style = Style(line_weight=1.5, detail=0.0, blacks="ink")
  x = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3)).astype(np.uint8)
  before = predict_lines(from_config(legacy_cfg), legacy, x, style.vector(style_lib.LEGACY_DIMS))
  with pytest.raises(ValueError, match="contours=all"):
    style_lib.check_model(Style(contours="all"), legacy_cfg.style_dims, "old model")
  base = sibling(os.path.join(REPO, "configs", "base.py"), "base")
  config = base.get_config()
  config.model.width, config.model.style_dims = WIDTH, style_lib.DIMS
  config.init_from = str(tmp_path)
  mesh = sharding.make_mesh(jax.devices()[:1])
  optimizer = make_optimizer(1e-3)
  state = create_train_state(trainer.build_model(config), optimizer, 0, mesh)
  grown = jax.device_get(trainer.init_from(state, config, optimizer, mesh))
  kernel = grown.params["bnc1" + STYLE_SUFFIX]["kernel"]
  assert kernel.shape[0] == style_lib.DIMS and not np.any(kernel[style_lib.LEGACY_DIMS:])
  np.testing.assert_array_equal(kernel[:style_lib.LEGACY_DIMS],
                                legacy["params"]["bnc1" + STYLE_SUFFIX]["kernel"])
  after = predict_lines(from_config(CFG), {"params": grown.params,
                                           "batch_stats": grown.batch_stats}, x, style.vector())
  np.testing.assert_allclose(np.asarray(after), np.asarray(before), atol=1e-6)


def test_tone_dark_puts_line_cores_at_full_ink_and_adds_no_ink_away_from_marks():
  """darken_lines: a gray line's core goes to full ink and its edges keep their
  share; faint marks, paper, and pixels farther than TONE_RADIUS from a mark stay
  as they are; amount 0 is the identity."""
  import cv2
  import jax.numpy as jnp

  from lineart_jax import evaluation
  from lineart_jax.model import TONE_FLOOR, TONE_RADIUS, darken_lines
  lines = np.ones((1, 40, 40, 1), np.float32)
  lines[0, 10, 5:35, 0] = 0.5                  # a gray line's core (darkness 0.5)
  lines[0, 9, 5:35, 0] = lines[0, 11, 5:35, 0] = 0.8  # its anti-aliased edges (0.2)
  lines[0, 30, 30, 0] = 1.0 - TONE_FLOOR / 2   # a faint speck, no line
  lines[0, 25, 10, 0] = 0.6                    # a dot (darkness 0.4)
  dark = np.asarray(darken_lines(jnp.asarray(lines), jnp.ones(1)))[0, ..., 0]
  np.testing.assert_allclose(dark[10, 5:35], 0.0, atol=1e-6)
  np.testing.assert_allclose(dark[9, 5:35], 1.0 - 0.2 / 0.5, atol=1e-6)
  assert dark[30, 30] == lines[0, 30, 30, 0] and dark[25, 10] == 0.0
  assert np.all(dark <= lines[0, ..., 0] + 1e-7)  # never lighter
  np.testing.assert_array_equal(np.asarray(darken_lines(jnp.asarray(lines), jnp.zeros(1))),
                                lines)
  # ink (below 0.75) only within TONE_RADIUS of a pixel darker than TONE_FLOOR before
  marks = lines[0, ..., 0] < 1.0 - TONE_FLOOR
  near = cv2.dilate(marks.astype(np.uint8), evaluation.tolerance_disk(TONE_RADIUS)) > 0
  assert not np.any((dark < 0.75) & ~near)


def test_tone_is_the_output_layer_not_film_and_tiles_exactly(base_weights):
  """A style model's tone=dark output is darken_lines of its drawn-tone output,
  whatever its style layers hold (they never read the tone entry), and tiled
  inference with a style equals untiled (the tone's radius is in the margin)."""
  import jax.numpy as jnp

  from lineart_jax import tiling
  from lineart_jax.model import darken_lines
  model = from_config(CFG)
  merged = _randomize_style_layers(extend_variables(
      jax.tree.map(np.asarray, init_variables(model, 1)), base_weights)[0], 1, 0.3)
  x = _image(64, 96)[None]
  drawn = predict_lines(model, merged, x, Style(1.5, 0.5, "drawn", "ink").vector())
  dark = np.asarray(predict_lines(model, merged, x, Style(1.5, 0.5, "dark", "ink").vector()))
  want = np.asarray(darken_lines(drawn[..., None], jnp.ones(1)))[..., 0]
  np.testing.assert_allclose(dark, want, atol=1e-6)
  assert np.abs(dark - np.asarray(drawn)).max() > 0.05  # darker somewhere
  image = _image(301, 419)
  vec = Style(1.5, 0.5, "dark", "paint").vector()
  apply = jax.jit(lambda b: predict_lines(model, merged, b, vec))
  untiled = np.asarray(apply(image[None]))[0]
  tiled = tiling.predict_tiled(image, lambda b: np.asarray(apply(b)), tile=256, batch=2)
  assert tiling.count_tiles(301, 419, 256) > 1
  assert np.abs(tiled - untiled).max() <= 1 / 255
