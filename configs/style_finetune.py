"""The style model: the shipped model with a line-style input, of which only the style layers train.

``lineart_jax.style``: line weight, detail, tone and solid blacks, as FiLM of
every BatchNorm layer (``config.model.style_dims=5``), whose weights start at
zero.  ``train_only="style"``: the shipped network's weights and BatchNorm
statistics stay fixed and only the style layers train, so the default style is
the shipped model exactly, at every step (the first style model trained every
parameter and lost 1.6 dB on the red-panda emotes in its default style: the
model card).  It trains on 2,000 pairs of this tree's generator (seed 7,
``--spread 0.35`` as stage 2 of the recipe) whose line art is drawn in a random
style per pair (``--styles``: a quarter in the default style): float32, batch
12, Adam 1e-3 (the style layers alone, from zero) with 40 warm-up steps and
cosine decay, 2,000 steps; ``max_minutes`` stops it with a checkpoint at 45,
rerun to finish.  From this tree, data, training and calibration in one command:

  INIT=pretrained STYLES=1 CONFIG=configs/style_finetune.py launch/pretrain.sh runs/style

The first style model (every parameter trained, Adam 2e-4):
``... launch/pretrain.sh runs/style --config.train_only= --config.optimizer.learning_rate=2e-4``.
"""

from lineart_jax.config_files import sibling

finetune = sibling(__file__, "pretrained_finetune")


def get_config():
  c = finetune.get_config()
  c.init_from = "pretrained"
  c.model.style_dims = 5
  c.train_only = "style"
  c.optimizer.learning_rate = 1e-3
  c.num_steps = 2000
  c.max_minutes = 45.0
  c.data.root = "runs/style/data_stage2_styles_packed"
  c.checkpoint_every = 400
  c.eval_every = 1000
  return c
