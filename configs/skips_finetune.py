"""The shipped network plus skip connections, trained alone: the dense small shapes.

Issue 41.  On held-out synthetic frames, ``--contours=all`` misses most where a
CG city shows rows of small lit windows (``bench/contours.py --by-scene``: the
cities hold three fifths of the target's ink and four fifths of its misses):
each window is a few pixels wide, its outline a square of one, and the network
draws a faint mottle there.  Its decoder rebuilds the image from 1/8 resolution
alone, so shapes denser than that grid are beyond it; ``model.arch="skip"``
brings the encoder's 1/4 and 1/2 resolution features and the input itself to
the decoder (``model.SKIPS``).

Those layers start at zero, so this stage starts at exactly the shipped model
(``init_from="pretrained"``), and it trains them alone (``train_only="skips"``):
the loaded network and its BatchNorm statistics stay fixed (a second stage of
the whole network cost the emotes 0.7-0.9 dB: docs/model_card.md), and the few
new weights learn at a learning rate of 1e-3, where at the whole network's 6e-5
they stayed at a fiftieth of the decoder's weights after 200 steps.  The pairs
are the bright stage's kind, anew (``FRAMES=bright2``: seed 19), 800 steps, two
seeds averaged and calibrated, in one command:

  INIT=pretrained FRAMES=bright2 CONFIG=configs/skips_finetune.py launch/soup.sh runs/skips
"""

from lineart_jax.config_files import sibling

traced = sibling(__file__, "traced_finetune")


def get_config():
  c = traced.get_config()
  c.model.arch = "skip"
  c.train_only = "skips"
  c.optimizer.learning_rate = 1e-3
  c.data.root = "runs/skips/data_stage2_bright2_packed"
  return c
