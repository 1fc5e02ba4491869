"""The skips soup's decoder and skips, trained on the fixed encoder: tried, not kept.

Issue 41.  The skip stage (configs/skips_finetune.py) trained the skip
connections alone; twice as long gained nothing, so this stage asks whether the
fixed decoder they feed bounds them.  It trains that decoder with them
(``train_only="decoder"``: the layers after the 1/8 bottleneck, their BatchNorm
and style layers, and the skips, ``model.DECODER_NAMES``) while the encoder and
every BatchNorm statistic stay as loaded, at the whole network's learning rate
(6e-5), on the skip stage's pairs (``FRAMES=bright2``), 800 steps; from the
skips soup (INIT):

  INIT=pretrained FRAMES=bright2 CONFIG=configs/decoder_finetune.py launch/soup.sh runs/decoder

Measured on seed 0 (docs/model_card.md, "More of the network on the skips
soup"): held-out synthetic frames' all-contours F@2 0.894 -> 0.897 and no
further at 400 steps, on untraced pairs, or with every weight trained
(``--config.train_only=weights``), while the dev frames' drawn mode lost
recall or precision; not shipped.
"""

from lineart_jax.config_files import sibling

skips = sibling(__file__, "skips_finetune")


def get_config():
  c = skips.get_config()
  c.train_only = "decoder"
  c.optimizer.learning_rate = 6e-5
  c.data.root = "runs/decoder/data_stage2_bright2_packed"
  return c
