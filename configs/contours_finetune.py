"""The shipped network, retrained with the contours control on drawings and anime frames.

Issue 41: on anime screenshots the shipped model misses every boundary that has
no drawn stroke (CG, flat graphics, trace lines) and inks dark clutter solid,
because its generator never drew a night scene, a CG city or a frame full of
embers, and its targets know one kind of line.  This stage starts from the
shipped model (``init_from="pretrained"``: its five style entries gain a zero
row for the sixth, ``contours``, so it starts as the shipped model in every
style) and trains every parameter, the style layers included (FiLM alone on a
frozen network learnt little of a new convention before: docs/model_card.md),
on 2,000 pairs of this tree's generator (seed 13):

* half of them anime frames (``--frames 0.5``: night skies, CG cities, flat
  graphics and text shapes, floors, dark clutter, speed lines, night tints,
  glows over lines, letterbox bars, video degradations), the other half
  drawings as in stage 2 (``--spread 0.35``);
* each line art in a random line style (``--styles``; a quarter default) and,
  in 40 % of the non-default ones, ``contours=all`` (``--contours 0.4``).

Settings of stage 2 (float32, batch 12, Adam 2e-4, 40 warm-up steps, cosine
decay), 800 steps.  From this tree, data, training and the calibrated
weights in the shipped format, in one command (``--config.seed`` for another
seed of the recipe):

  INIT=pretrained FRAMES=1 CONFIG=configs/contours_finetune.py launch/pretrain.sh runs/contours
"""

from lineart_jax import style
from lineart_jax.config_files import sibling

finetune = sibling(__file__, "pretrained_finetune")


def get_config():
  c = finetune.get_config()
  c.init_from = "pretrained"
  c.model.style_dims = style.DIMS
  c.train_only = ""
  c.num_steps = 800
  c.data.root = "runs/contours/data_stage2_frames_packed"
  c.checkpoint_every = 200
  c.eval_every = 0
  c.log_every = 50
  return c
