"""The shipped model's style layers: trained alone, on top of the model without them.

``lineart_jax.style``: line weight, detail, tone and solid blacks, as FiLM of
every BatchNorm layer (``config.model.style_dims=5``).  The style layers start at
zero (``init_style_layers="zero"`` leaves out the shipped model's own, which
this config trained) and train alone (``train_only="style"``): the network under
them, its BatchNorm statistics and its calibration stay as shipped, so the
default style is the shipped model bit for bit at every step.  (The first style
model trained every parameter and lost 1.6 dB on the red-panda emotes in its
default style: docs/model_card.md.)

Data: 2,000 pairs of this tree's generator (seed 7, ``--spread 0.35`` as stage 2
of the recipe) whose line art is drawn in a random style per pair (``--styles``:
a quarter in the default style, detail 0 or 1 only).  Training: float32, batch
12, Adam 1e-3 with 40 warm-up steps and cosine decay, 2,000 steps: 34 minutes on
2 CPU cores (``max_minutes`` stops it with a checkpoint at 45; rerun to finish),
75 s on one H200 (the shipped layers: seed 0, docs/model_card.md).  From this
tree, data, training and the weights in the shipped format, in one command:

  INIT=pretrained STYLES=1 CONFIG=configs/style_finetune.py launch/pretrain.sh runs/style

The first style model: add ``--config.train_only= --config.optimizer.learning_rate=2e-4``.
"""

from lineart_jax.config_files import sibling

finetune = sibling(__file__, "pretrained_finetune")


def get_config():
  c = finetune.get_config()
  c.init_from = "pretrained"
  c.init_style_layers = "zero"  # the shipped model has these layers: start them afresh
  c.model.style_dims = 5
  c.train_only = "style"
  c.optimizer.learning_rate = 1e-3
  c.num_steps = 2000
  c.max_minutes = 45.0
  c.data.root = "runs/style/data_stage2_styles_packed"
  c.checkpoint_every = 400
  c.eval_every = 1000
  return c
