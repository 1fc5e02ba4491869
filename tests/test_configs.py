import os

from lineart_jax.config_files import sibling

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def _load(name):
  return sibling(os.path.join(CONFIGS, "x.py"), name).get_config()


def test_base_is_the_seed_recipe():
  c = _load("base")
  assert (c.model.width, c.global_batch, c.data.crop, c.optimizer.learning_rate,
          c.num_steps) == (1.0, 15, 128, 2e-5, 250_000)
  assert (c.loss.alpha, c.loss.beta, c.loss.radius, c.loss.bins) == (6.0, -2.0, 2, 10)
  assert c.data.root == ""  # synthetic data on a fresh install


def test_other_configs_change_only_what_differs():
  base = _load("base").to_dict()
  for name, changed in [("demo", {"num_steps", "global_batch", "model", "optimizer", "data",
                                  "checkpoint_every", "eval_every", "eval_size"}),
                        ("throughput", {"model", "global_batch", "data", "log_every"})]:
    c = _load(name).to_dict()
    assert c.keys() == base.keys()
    assert {k for k in base if c[k] != base[k]} == changed, name
  assert _load("throughput").model.dtype == "bfloat16"


def test_shipped_recipe_stage2_fine_tunes_stage1():
  stage1, stage2 = _load("pretrained").to_dict(), _load("pretrained_stage2").to_dict()
  assert {k for k in stage1 if stage2[k] != stage1[k]} == {"init_from", "num_steps", "optimizer",
                                                            "data"}
  assert stage2["init_from"] == "runs/pretrained" and stage2["model"] == stage1["model"]
  assert stage2["data"]["root"] != stage1["data"]["root"]


def test_shipped_recipe_gpu_stage2_fine_tunes_the_gpu_stage():
  stage1, stage2 = _load("pretrained_gpu").to_dict(), _load("pretrained_gpu_stage2").to_dict()
  changed = {k for k in stage1 if stage2[k] != stage1[k]}
  assert changed == {"init_from", "num_steps", "global_batch", "optimizer", "data", "model",
                     "log_every", "checkpoint_every"}
  assert stage2["init_from"] == "runs/pretrained_gpu"
  assert stage2["model"] == {**stage1["model"], "dtype": "float32"}  # same network
  assert stage2["data"]["root"] != stage1["data"]["root"]


def test_shipped_recipe_gpu_stage3_fine_tunes_stage2():
  stage2 = _load("pretrained_gpu_stage2").to_dict()
  stage3 = _load("pretrained_gpu_stage3").to_dict()
  assert {k for k in stage2 if stage3[k] != stage2[k]} == {"init_from", "num_steps", "data",
                                                            "checkpoint_every"}
  assert stage3["init_from"] == "runs/pretrained_gpu_stage2"
  assert stage3["data"]["root"] != stage2["data"]["root"]


def test_recipe_from_this_tree_fine_tunes_with_stage3_settings():
  stage3 = _load("pretrained_gpu_stage3").to_dict()
  finetune = _load("pretrained_finetune").to_dict()
  assert {k for k in stage3 if finetune[k] != stage3[k]} == {"init_from", "data"}
  assert finetune["init_from"] == "runs/recipe/stage1"
  assert finetune["data"]["root"] == "runs/recipe/data_stage2_packed"


def test_base_builds_the_seed_network_without_options():
  model = _load("base").model
  assert (model.arch, model.edges) == ("seed", 0)


def test_skips_stage_trains_the_skips_alone_on_the_traced_stage_settings():
  traced, skips = _load("traced_finetune").to_dict(), _load("skips_finetune").to_dict()
  assert {k for k in traced if skips[k] != traced[k]} == {"model", "train_only", "optimizer",
                                                          "data"}
  assert skips["model"] == {**traced["model"], "arch": "skip"}
  assert skips["optimizer"] == {**traced["optimizer"], "learning_rate": 1e-3}
  assert skips["train_only"] == "skips" and skips["init_from"] == "pretrained"


def test_decoder_stage_is_the_skips_stage_training_the_decoder_at_the_traced_rate():
  skips, decoder = _load("skips_finetune").to_dict(), _load("decoder_finetune").to_dict()
  assert {k for k in skips if decoder[k] != skips[k]} == {"train_only", "optimizer", "data"}
  assert decoder["train_only"] == "decoder"
  assert decoder["optimizer"] == {**skips["optimizer"],
                                  "learning_rate": _load("traced_finetune").optimizer.learning_rate}


def test_lattice_stage_is_the_decoder_stage_with_the_grid_weighed_apart():
  decoder, lattice = _load("decoder_finetune").to_dict(), _load("lattice_finetune").to_dict()
  assert {k for k in decoder if lattice[k] != decoder[k]} == {"loss", "data"}
  assert lattice["loss"] == {**decoder["loss"], "lattice": 30.0}
  assert _load("base").loss.lattice == 0.0  # the paper's loss unless a config asks
