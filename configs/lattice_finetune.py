"""The skips soup's decoder, trained against the dotted lines its strides leave: tried, not kept.

Issue 41.  On anime frames the shipped model draws its faint lines as rows of
dots 4 px apart, locked to the pixel grid (``agreement``'s grid: the darkest of
the 16 phases of a 4x4 grid holds 1.4-2.0x their mean darkness on the dev
frames, 1.34-1.44 on synthetic frames, 1.05-1.15 in their targets); ``--tone=dark``
turns the dots black.  The paper's loss counts that
pattern as a small part of the error (about 1 %), so this stage weighs it apart:
``loss.lattice`` adds 30 times the error's grid-locked energy
(``losses.lattice_energy``), while the decoder trains as in
configs/decoder_finetune.py (``train_only="decoder"``: the encoder and every
BatchNorm statistic fixed), 800 steps on the skip stage's kind of pairs; from
the skips soup (INIT):

  INIT=pretrained FRAMES=bright2 CONFIG=configs/lattice_finetune.py launch/soup.sh runs/lattice

Measured on both seeds (docs/model_card.md, "The grid's dots weighed apart"):
the dots go (grid 1.05-1.25 on the dev frames), but the internal anime set
loses 0.006 F@2 and drawn mode recall on every dev frame (the dots were the
darkest part of many faint strokes); not shipped.
"""

from lineart_jax.config_files import sibling

decoder = sibling(__file__, "decoder_finetune")


def get_config():
  c = decoder.get_config()
  c.loss.lattice = 30.0
  c.data.root = "runs/lattice/data_stage2_bright2_packed"
  return c
