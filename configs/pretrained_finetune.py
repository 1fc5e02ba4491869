"""Stage 2 of the recipe from this tree (``launch/pretrain.sh``): fine-tuning stage 1.

Stage 1 is ``configs/pretrained_gpu.py`` (from scratch, one GPU).  This stage
trains it on 2,000 pairs of this tree's generator, 35 % of them with the color
image's lines thickened (``--spread 0.35``), with the settings of the shipped
model's stage 3 (``configs/pretrained_gpu_stage3.py``): float32, batch 12, Adam
2e-4 with 40 warm-up steps and cosine decay, 800 steps, about 16 minutes on 2
CPU cores.  ``launch/pretrain.sh`` passes ``init_from`` and ``data.root`` and
any options, e.g. ``--config.model.edges=2``: from weights without edge maps or
skips those layers start at zero, so the stage starts from stage 1's model.

  launch/pretrain.sh runs/recipe                        # all of it
  INIT=pretrained launch/pretrain.sh runs/ft            # this stage from the shipped model
"""

from lineart_jax.config_files import sibling

stage3 = sibling(__file__, "pretrained_gpu_stage3")


def get_config():
  c = stage3.get_config()
  c.init_from = "runs/recipe/stage1"
  c.data.root = "runs/recipe/data_stage2_packed"
  return c
