"""Stage 3 of the shipped model: fine-tuning stage 2 on hair and on what the eye can see.

Starts from ``configs/pretrained_gpu_stage2.py`` (run in
``runs/pretrained_gpu_stage2``) and trains on the generator as of commit
75f32b2: hair masses with wide, soft shadow bands (paint, which the model had
drawn as thick lines on anime hair), targets without the lines the color image
does not show (black ink on black paint: 6 % of the target ink before, which
taught the model to draw strokes on dark shading), and colored lines (a darker
shade of the fill) no wider than 3 px, so that wide strokes in such a shade are
shading.  800 steps of 12 at float32: 16.4 minutes on 2 CPU cores, seconds on a
GPU.

  git show 75f32b2:lineart_jax/data/synthetic.py > lineart_jax/data/synthetic_stage3.py
  python -m lineart_jax.data.synthetic_stage3 data/syn384_v10 --count 2000 --size 384 \\
      --seed 6 --workers 2
  python -m lineart_jax.data.prepare data/syn384_v10 --out data/syn384_v10_packed
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
  c.data.root = "data/syn384_v10_packed"
  c.checkpoint_every = 400
  return c
