"""The style model: the shipped model fine-tuned with a line-style input.

``lineart_jax.style``: line weight, detail, tone and solid blacks, as FiLM of
every BatchNorm layer (``config.model.style_dims=5``), whose weights start at
zero, so step 0 is the shipped model exactly.  It trains on 2,000 pairs of this
tree's generator (seed 7, ``--spread 0.35`` as stage 2 of the recipe) whose line
art is drawn in a random style per pair (``--styles``: a quarter in the default
style), with stage 2's settings (float32, batch 12, Adam 2e-4 with 40 warm-up
steps and cosine decay) for 2,000 steps (about 40 minutes on 2 CPU cores; ``max_minutes`` stops it
with a checkpoint at 45, rerun to finish).  From this tree, data, training and calibration in one command:

  INIT=pretrained STYLES=1 CONFIG=configs/style_finetune.py launch/pretrain.sh runs/style
"""

from lineart_jax.config_files import sibling

finetune = sibling(__file__, "pretrained_finetune")


def get_config():
  c = finetune.get_config()
  c.init_from = "pretrained"
  c.model.style_dims = 5
  c.num_steps = 2000
  c.max_minutes = 45.0
  c.data.root = "runs/style/data_stage2_styles_packed"
  c.checkpoint_every = 400
  c.eval_every = 1000
  return c
