"""The model's options (edge maps, skip architecture): off they are the seed network;
on, their layers start at zero (a fine-tune starts from the loaded model), are
wired into the output, fold for export and keep tiling exact."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lineart_jax import export, opencv_method, pretrained, sharding, tiling
from lineart_jax.checkpointing import Checkpointer, IncompatibleCheckpointError
from lineart_jax.model import (LAYERS, AutoEncoder, edge_maps, extend_variables, fold_batchnorm,
                               ModelConfig, from_config, init_variables, predict_lines)
from lineart_jax.train_step import create_train_state

WIDTH = 0.0625
OPTIONS = [("seed", 2), ("skip", 0), ("skip", 2)]


def _lively(variables):
  """Seed-network weights whose eval-mode output is far from constant: BatchNorm
  statistics of a real image (at init, with unit statistics, 0.02-std kernels
  leave the output at sigmoid(bias) everywhere)."""
  x = jnp.asarray(_image(64, 64)[None], jnp.float32) / 255.0
  _, stats = AutoEncoder(width=WIDTH, bn_momentum=0.0).apply(
      variables, x, train=True, mutable=["batch_stats"])
  params = jax.tree.map(np.asarray, variables["params"])
  last = LAYERS[-1][0]  # no BatchNorm after it: scale its logits up from ~0.01
  params[last] = {**params[last], "kernel": params[last]["kernel"] * 10}
  return jax.tree.map(np.asarray, {"params": params, **stats})


def _image(h, w, seed=0):
  from lineart_jax.data import synthetic
  return synthetic.make_pair(seed, 0, max(h, w))[0][:h, :w]


@pytest.fixture(scope="module")
def seed_weights():
  return _lively(jax.tree.map(np.asarray, init_variables(AutoEncoder(width=WIDTH), 0)))


def _with_options(seed_weights, arch, edges, new_scale=0.0):
  """(model, variables): ``seed_weights`` extended with the options' layers, those
  zero (``new_scale`` 0) or random."""
  model = from_config(ModelConfig(WIDTH, arch, edges))
  fresh = jax.tree.map(np.asarray, init_variables(model, 1))
  merged, new = extend_variables(fresh, seed_weights)
  rng = np.random.default_rng(5)
  for name in new:
    merged["params"][name] = jax.tree.map(
        lambda a: rng.normal(0, new_scale, a.shape).astype(np.float32), merged["params"][name])
  return model, merged, new


def test_default_options_are_the_seed_network():
  shapes = jax.eval_shape(lambda: init_variables(from_config(ModelConfig(1.0)), 0))
  seed_names = {n for n, *_ in LAYERS} | {bn for *_, bn in LAYERS if bn}
  assert set(shapes["params"]) == seed_names
  with pytest.raises(ValueError, match="arch 'unet'"):
    ModelConfig(1.0, arch="unet")
  with pytest.raises(ValueError, match="edges=9"):
    ModelConfig.from_dict({"width": 1.0, "edges": 9})


def test_model_config_reads_old_dicts_and_writes_the_on_disk_form():
  """``to_dict`` is the on-disk form (a checkpoint's ``model`` item, ``lineart.json``):
  every field, in the order they have always been written, read back equal; a dict
  from before arch/edges/style_dims is the seed network; a training config's other
  keys (dtype, bn_momentum) are not part of the network."""
  full = {"width": 0.5, "arch": "seed", "edges": 0, "style_dims": 0, "style_input": "film"}
  old = ModelConfig.from_dict({"width": 0.5})
  assert old == ModelConfig(0.5) and list(old.to_dict().items()) == list(full.items())
  with open(pretrained.INFO, encoding="utf-8") as f:
    shipped = json.load(f)["model"]
  assert list(ModelConfig.from_dict(shipped).to_dict().items()) == list(shipped.items())
  cfg = ModelConfig.from_dict({"width": 1, "arch": "skip", "edges": 2, "style_dims": 6,
                               "dtype": "bfloat16", "bn_momentum": 0.9})
  assert cfg == ModelConfig(1.0, "skip", 2, 6) and type(cfg.to_dict()["width"]) is float
  assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
  assert len({cfg, ModelConfig(1.0, "skip", 2, 6)}) == 1  # hashable: equal means same network
  assert cfg.describe() == "width 1, arch skip, 2 edge maps, style input"
  assert ModelConfig(0.5, edges=1, style_dims=6, style_input="channels").describe() == (
      "width 0.5, 1 edge map, style input (channels)")
  with pytest.raises(dataclasses.FrozenInstanceError):
    cfg.width = 2.0
  with pytest.raises(ValueError, match="no width"):
    ModelConfig.from_dict({"arch": "seed"})
  with pytest.raises(TypeError, match="ModelConfig.from_dict"):
    from_config(full)


@pytest.mark.parametrize("arch,edges", OPTIONS)
def test_new_layers_start_at_zero_so_the_loaded_model_is_unchanged(seed_weights, arch, edges):
  x = _image(40, 56)[None]
  want = np.asarray(predict_lines(AutoEncoder(width=WIDTH), seed_weights, x))
  assert want.std() > 0.05  # a real test: the output is far from constant
  model, variables, new = _with_options(seed_weights, arch, edges)
  assert new == sorted((["encoder1_edges"] if edges else [])
                       + (["skip_full", "skip_half", "skip_quarter"] if arch == "skip" else []))
  fresh = init_variables(model, 3)
  assert all(np.all(np.asarray(fresh["params"][n]["kernel"]) == 0) for n in new)
  np.testing.assert_array_equal(np.asarray(predict_lines(model, variables, x)), want)


def test_edge_maps_added_to_trained_skips_leave_the_model_unchanged(seed_weights):
  """Weights with trained skips and no edge maps (the shipped form) extend to a
  network with both: the input skip gains zero rows for the maps' channels."""
  x = _image(40, 56)[None]
  model, skips, _ = _with_options(seed_weights, "skip", 0, new_scale=0.1)
  want = np.asarray(predict_lines(model, skips, x))
  both = from_config(ModelConfig(WIDTH, "skip", 2))
  merged, new = extend_variables(jax.tree.map(np.asarray, init_variables(both, 3)), skips)
  assert new == ["encoder1_edges"]
  kernel = merged["params"]["skip_full"]["kernel"]
  assert kernel.shape[2] == 3 + 2 and np.all(kernel[:, :, 3:] == 0)
  np.testing.assert_array_equal(np.asarray(predict_lines(both, merged, x)), want)


@pytest.mark.parametrize("arch,edges", OPTIONS)
def test_option_layers_change_the_output_and_fold_for_export(seed_weights, arch, edges):
  x = _image(40, 56)[None]
  seed_out = np.asarray(predict_lines(AutoEncoder(width=WIDTH), seed_weights, x))
  model, variables, _ = _with_options(seed_weights, arch, edges, new_scale=0.1)
  out = np.asarray(predict_lines(model, variables, x))
  assert np.abs(out - seed_out).max() > 0.01  # the new layers are wired in
  folded_model = from_config(ModelConfig(WIDTH, arch, edges), batchnorm_folded=True)
  folded = predict_lines(folded_model, fold_batchnorm(variables), x)
  np.testing.assert_allclose(np.asarray(folded), out, atol=1e-4)


def test_edge_map_is_the_opencv_operator():
  rgb = _image(45, 61, seed=3)
  want = 1.0 - opencv_method.extract_lines(rgb).astype(np.float32) / 255.0
  maps = np.asarray(edge_maps(jnp.asarray(rgb[None], jnp.float32) / 255.0, 2))[0]
  assert maps.shape == (45, 61, 2) and want.std() > 0.05
  assert np.abs(maps[..., 0] - want).max() <= 1.01 / 255  # OpenCV rounds its gray to 8 bits
  assert np.all(maps[..., 1] >= maps[..., 0] - 1e-6)  # the wider window's max is larger


def test_tiled_equals_untiled_with_skips_and_edges(seed_weights):
  model, variables, _ = _with_options(seed_weights, "skip", 2, new_scale=0.1)
  apply = jax.jit(lambda b: predict_lines(model, variables, b))
  image = _image(301, 419, seed=1)
  untiled = np.asarray(apply(image[None]))[0]
  assert untiled.std() > 0.05 and tiling.count_tiles(301, 419, 256) > 1
  tiled = tiling.predict_tiled(image, lambda b: np.asarray(apply(b)), tile=256, batch=2)
  assert np.abs(tiled - untiled).max() <= 1e-5


def test_export_of_skips_and_edges_equals_the_jax_model(seed_weights, tmp_path):
  import onnxruntime as ort
  cfg = ModelConfig(WIDTH, "skip", 2)
  model, variables, _ = _with_options(seed_weights, "skip", 2, new_scale=0.1)
  fn = export.inference_function(cfg, variables)
  export.export_onnx(fn, str(tmp_path / "m.onnx"))
  export.export_stablehlo(fn, str(tmp_path / "m.stablehlo"))
  images = np.stack([_image(48, 72, seed=s) for s in (0, 1)])
  want = np.asarray(predict_lines(model, variables, images))
  got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"image": images})[0]
  hlo = jax.export.deserialize(bytearray((tmp_path / "m.stablehlo").read_bytes()))
  assert np.abs(got - want).max() < 1e-4
  assert np.abs(np.asarray(hlo.call(images)) - want).max() < 1e-4


def test_checkpoint_records_the_arch_and_refuses_another(tmp_path):
  mesh = sharding.make_mesh(jax.devices()[:1])
  skip = ModelConfig(WIDTH, "skip", 2)
  state = create_train_state(from_config(skip), optax.sgd(0.1), 0, mesh)
  ckpt = Checkpointer(str(tmp_path / "checkpoints"), skip)
  ckpt.save(1, state, None)
  ckpt.wait()
  ckpt.close()
  seed = Checkpointer(str(tmp_path / "checkpoints"), ModelConfig(WIDTH))
  with pytest.raises(IncompatibleCheckpointError) as e:
    seed.restore(create_train_state(from_config(ModelConfig(WIDTH)), optax.sgd(0.1), 0, mesh),
                 None)
  seed.close()
  assert "'arch': 'skip'" in str(e.value) and "'arch': 'seed'" in str(e.value)


def test_extending_refuses_other_shapes_and_missing_layers(seed_weights):
  wide = jax.tree.map(np.asarray, init_variables(AutoEncoder(width=2 * WIDTH), 0))
  with pytest.raises(ValueError, match=r"bnc1/mean: saved shape \(3,\), this network's \(6,\)"):
    extend_variables(wide, seed_weights)
  _, skip_weights, _ = _with_options(seed_weights, "skip", 0)
  with pytest.raises(ValueError, match="skip_"):
    extend_variables(seed_weights, skip_weights)  # a skip model into the seed network


@pytest.mark.parametrize("train_only", ["skips", "decoder", "weights"])
def test_train_only_trains_its_layers_and_keeps_the_rest_of_the_loaded_network(
    seed_weights, train_only):
  """config.train_only='skips' ('decoder', 'weights'): after real steps the skip
  connections (and the decoder's layers; every parameter) have moved and changed
  the output; every other parameter and every BatchNorm statistic is bit for bit
  as loaded."""
  import flax

  from lineart_jax.model import DECODER_NAMES
  from lineart_jax.train_step import make_optimizer, make_train_step, trainable_mask
  mesh = sharding.make_mesh(jax.devices()[:2])
  model, merged, new = _with_options(seed_weights, "skip", 0)
  trained_names = {"skips": set(new), "decoder": DECODER_NAMES,
                   "weights": set(merged["params"])}[train_only]
  assert trained_names >= set(new) and "decoder3" in DECODER_NAMES
  optimizer = make_optimizer(1e-2, train_only=train_only)
  state = create_train_state(model, optimizer, 0, mesh)
  state = jax.device_put(state.replace(params=merged["params"],
                                       batch_stats=merged["batch_stats"],
                                       opt_state=optimizer.init(merged["params"])),
                         sharding.replicated(mesh))
  step = make_train_step(model, optimizer, mesh, 1e-2, train_only=train_only)
  rng = np.random.default_rng(0)
  colors = np.stack([_image(32, 32, seed) for seed in range(4)])
  for _ in range(3):
    batch = {"color": colors, "line": rng.integers(0, 256, (4, 32, 32, 1), np.uint8)}
    state, metrics = step(state, sharding.global_batch(batch, mesh))
    assert float(metrics["grad_norm"]) > 0 and float(metrics["finite"]) == 1
  after = jax.device_get(state)
  flat = flax.traverse_util.flatten_dict
  old, trained = flat(merged["params"]), flat(jax.tree.map(np.asarray, after.params))
  for path, m in flat(trainable_mask(merged["params"], train_only)).items():
    assert m == (path[0] in trained_names), path
    assert (np.abs(trained[path] - old[path]).max() > 0) == m, path
  for a, b in zip(jax.tree.leaves(after.batch_stats), jax.tree.leaves(merged["batch_stats"])):
    np.testing.assert_array_equal(a, b)
  x = _image(32, 32, 9)[None]
  before = np.asarray(predict_lines(model, merged, x))
  now = np.asarray(predict_lines(model, {"params": after.params,
                                         "batch_stats": after.batch_stats}, x))
  assert np.abs(now - before).max() > 1e-3
  with pytest.raises(ValueError, match="no skip connections"):
    trainable_mask(seed_weights["params"], "skips")
