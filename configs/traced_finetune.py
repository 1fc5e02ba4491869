"""Two stages of the shipped network: the contours stage again, gently, on traced frames.

Issue 41.  On the dev frames the contours model drew the lines it was unsure of
(thin, soft, in a shade of the fill, hair strands that the drawings' generator
paints as a colorist's streaks) at 10-30 % gray, and ``--contours=all`` missed
some of a night sky's figure and inked an ember frame's background gray.  This
stage starts from the shipped contours model (``init_from="pretrained"``) and
trains every parameter as ``configs/contours_finetune.py`` does, on 2,000 pairs
of seed 13 whose frames are traced cels (``synthetic --frames 0.5 --traced``:
figures in most frames, thin lines of one tone, drawn hair strands, a soft blur
in a third), at a peak learning rate of 6e-5 (0.3 x: two runs at 2e-4 lost
0.85-1.0 dB of the emotes' PSNR), 800 steps.  The shipped weights are the
average of two seeds of it (a soup: the seeds alone spread 18.16-19.38 dB on the
emotes, the soup 18.85), calibrated.  From this tree, in one command:

  INIT=pretrained FRAMES=traced CONFIG=configs/traced_finetune.py launch/soup.sh runs/traced

The shipped stage after it is this config once more, from that soup, on pairs
of seed 17 whose traced frames draw 60 % of their colored lines in a light shade
of the fill and half their thin lines brighter than a dark fill (rim lights:
``synthetic --light-traces 0.6 --bright-traces 0.5``; ``launch/pretrain.sh``
points ``data.root`` at them), two seeds averaged and calibrated:

  INIT=pretrained FRAMES=bright CONFIG=configs/traced_finetune.py launch/soup.sh runs/bright

(INIT naming the traced soup; docs/model_card.md lists the other FRAMES kinds
tried from it.)  The shipped model is that soup with skip connections trained
alone on it (configs/skips_finetune.py).
"""

from lineart_jax.config_files import sibling

contours = sibling(__file__, "contours_finetune")


def get_config():
  c = contours.get_config()
  c.optimizer.learning_rate = 6e-5
  c.data.root = "runs/traced/data_stage2_traced_packed"
  return c
