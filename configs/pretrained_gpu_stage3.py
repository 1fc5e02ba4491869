"""Stage 3 of the shipped model: fine-tuning stage 2 on paint that looks like ink, and on thickened lines.

Starts from ``configs/pretrained_gpu_stage2.py`` (run in
``runs/pretrained_gpu_stage2``) and trains on the generator as of commit
021a42f: deep hued fills at any size and narrow tapered spikes painted in a hue
(the stage-2 model filled real dark red spikes and ribbons with ink), hair
streaks as wide as a brush line, colored lines no wider than 3 px (a wider
stroke in a darker shade of the fill is shading), targets without the lines the
color image does not show, and in 35 % of the pairs a color image whose lines
are 0.4-1.2 px wider than the target's, as a colorization network leaves a
sketch's lines (``--spread 0.35``: fewer halos on anime art).  800 steps of 12
at float32: 17 minutes on 2 CPU cores, seconds on a GPU.

  git show 021a42f:lineart_jax/data/synthetic.py > lineart_jax/data/synthetic_stage3.py
  python -m lineart_jax.data.synthetic_stage3 data/syn384_v14 --count 2000 --size 384 \\
      --seed 7 --spread 0.35 --workers 2
  python -m lineart_jax.data.prepare data/syn384_v14 --out data/syn384_v14_packed
  python -m lineart_jax.train --config=configs/pretrained_gpu_stage3.py \\
      --workdir=runs/pretrained_gpu_stage3
  python -m lineart_jax.calibrate runs/pretrained_gpu_stage3 --out lineart_jax/pretrained
"""

from lineart_jax.config_files import sibling

stage2 = sibling(__file__, "pretrained_gpu_stage2")


def get_config():
  c = stage2.get_config()
  c.init_from = "runs/pretrained_gpu_stage2"
  c.num_steps = 800
  c.data.root = "data/syn384_v14_packed"
  c.checkpoint_every = 400
  return c
