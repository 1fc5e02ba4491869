"""The shipped network's decoder and skips, trained on the fixed encoder.

Issue 41.  The skip stage (configs/skips_finetune.py) trained the skip
connections alone; twice as long gained nothing, so what they add is bounded by
the fixed decoder they feed.  This stage trains that decoder with them
(``train_only="decoder"``: the layers after the 1/8 bottleneck, their BatchNorm
and style layers, and the skips, ``model.DECODER_NAMES``) while the encoder and
every BatchNorm statistic stay as loaded, so the features the drawings are read
with do not move; at the whole network's learning rate (6e-5), on the skip
stage's pairs (``FRAMES=bright2``), 800 steps, two seeds averaged and
calibrated, in one command (INIT: the skips soup):

  INIT=pretrained FRAMES=bright2 CONFIG=configs/decoder_finetune.py launch/soup.sh runs/decoder
"""

from lineart_jax.config_files import sibling

skips = sibling(__file__, "skips_finetune")


def get_config():
  c = skips.get_config()
  c.train_only = "decoder"
  c.optimizer.learning_rate = 6e-5
  c.data.root = "runs/decoder/data_stage2_bright2_packed"
  return c
